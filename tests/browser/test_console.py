"""The staff console in a real browser (Debian's Chromium, driven by Playwright), as clinic
staff use it: next to a visitor's web chat, on a laptop and on a phone.

Each test makes its own visitors and browser contexts; they share the running assistant
(action server, Rasa server, delivery worker and console as real processes).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOTS
from tests.console.support import PASSWORDS
from tests.support import RunningAssistant

TIMEOUT = 15_000  # ms; the console indexes new tracker events within about 2 s
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(autouse=True)
def staff_accounts(console_roles: dict[str, str]) -> dict[str, str]:
    """test-staff, test-clinician and test-admin exist before any test logs in."""
    return console_roles


@contextmanager
def new_page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        yield page
    finally:
        context.close()


def log_in(page: Page, assistant: RunningAssistant, role: str, path: str = "/") -> None:
    """Through the login form, as a person would; lands on `path`."""
    page.goto(f"{assistant.servers.console_url}/login?next={quote(path)}")
    page.get_by_label("Name", exact=True).fill(f"test-{role}")
    page.get_by_label("Password", exact=True).fill(PASSWORDS[role])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text(f"test-{role} ({role})")


@contextmanager
def console_as(browser: Browser, assistant: RunningAssistant, role: str, viewport=LAPTOP) -> Iterator[Page]:
    with new_page(browser, viewport) as page:
        log_in(page, assistant, role)
        yield page


def open_conversation(page: Page, assistant: RunningAssistant, conversation_id: str) -> None:
    page.goto(f"{assistant.servers.console_url}/conversations/{quote(conversation_id, safe='')}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(conversation_id)


def fresh_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def hand_off_over_rest(assistant: RunningAssistant, visitor: str, phone: str) -> None:
    """A visitor (REST channel) who asks for a person and leaves a phone number."""
    assert "phone number or email" in assistant.texts(visitor, "can I talk to a real person please?")
    assert "stay quiet" in assistant.texts(visitor, phone)


# --- the web chat, as the visitor sees it ----------------------------------------------------


def bot_messages(chat: Page):
    return chat.locator(".msg--bot")


def chat_say(chat: Page, text: str) -> None:
    """Types a message and waits until the assistant's reply has started arriving."""
    before = bot_messages(chat).count()
    chat.get_by_label("Your message").fill(text)
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator(".msg--user").last).to_have_text(f"You: {text}")
    expect(bot_messages(chat).nth(before)).to_be_visible()


# --- 1 and 2: a visitor asks for a person, staff answer from the console -----------------------


def test_visitor_hands_off_in_the_web_chat_and_staff_reply_from_the_console(
    browser: Browser, assistant: RunningAssistant
) -> None:
    # Letters only: the console masks any run of 4+ digits as if it were a phone number.
    phrase = "whippet Pumpernickel"  # distinctive enough to find this one conversation
    question = f"does the laser hurt much on the upper lip? my {phrase} flinches at everything and so do I"
    with new_page(browser, PHONE) as chat, console_as(browser, assistant, "staff") as console:
        # The visitor, on a phone.
        chat.goto(f"{assistant.url}/chat/")
        expect(bot_messages(chat).first).to_contain_text("automated assistant")
        chat_say(chat, question)
        chat_say(chat, "I'd like to talk to a person")
        expect(bot_messages(chat).last).to_contain_text("phone number or email")
        chat_say(chat, "07400 900123")
        expect(bot_messages(chat).last).to_contain_text("contact you on +447400900123")
        expect(bot_messages(chat).last).to_contain_text("stay quiet")
        conversation_id = chat.evaluate("localStorage.getItem('clinic-chat-session')")
        assert conversation_id

        # Staff, on a laptop, find it by what the visitor wrote.
        console.get_by_role("link", name="Conversations").click()
        console.get_by_label("Search what visitors wrote").fill(f'"{phrase}"')
        console.get_by_role("button", name="Filter").click()
        results = console.locator("#results")
        expect(results.locator(".conversations li")).to_have_count(1)
        expect(results).to_contain_text("1 conversation.")
        row = results.locator(".conversations li").first
        expect(row.locator(".question")).to_have_text(question)
        expect(row.locator(".channel")).to_have_text("Web")
        expect(row.locator(".badge.handoff")).to_have_text("person")
        row.get_by_role("link").click()
        expect(console.get_by_role("heading", level=1)).to_contain_text(conversation_id)

        # The phone number is masked everywhere on the page (staff role).
        transcript = console.locator(".chat")
        masked = re.compile(r"\+44 7[• ]+123")  # "+44 7••• •••123": country code, first and last 3 digits
        expect(transcript.locator("li.visitor").filter(has_text=masked)).to_have_count(1)
        expect(transcript.locator("li.assistant").filter(has_text="contact you on +44 7")).to_contain_text(masked)
        expect(console.locator("aside")).to_contain_text(re.compile(r"Contact: \+44 7[• ]+123"))
        expect(console.get_by_text("Personal and health details are masked.")).to_be_visible()
        expect(console.get_by_text(re.compile(r"Handoff HO-"))).to_be_visible()
        assert "900123" not in console.content()
        assert "900123" not in console.locator("body").inner_text()
        expect(console.get_by_role("button", name=re.compile("Reveal"))).to_have_count(0)

        # Tag it and mark it reviewed.
        console.get_by_label("Tag", exact=True).fill("Follow-up")
        console.get_by_role("button", name="Add tag").click()
        expect(console.locator("#review .tags .badge.tag")).to_have_text(["follow-up"])
        console.get_by_role("button", name="Mark reviewed").click()
        expect(console.locator("#review")).to_contain_text("Reviewed by test-staff")
        expect(console.get_by_role("button", name="Mark not reviewed")).to_be_visible()

        # Reply to the visitor: it arrives in their chat and stays in the transcript.
        reply = "Hi, this is Sam from the clinic. A little tingling on the lip is normal, and we numb it first."
        reply_card = console.locator("#reply")
        expect(reply_card).to_contain_text("Handed to a person")
        reply_card.get_by_label("Message").fill(reply)
        reply_card.get_by_role("button", name="Send reply").click()
        expect(bot_messages(chat).last).to_have_text(f"Assistant: {reply}")
        staff_line = console.locator(".chat li.staff")
        expect(staff_line).to_have_count(1)
        expect(staff_line).to_contain_text(reply)
        expect(staff_line).to_contain_text("test-staff (staff)")

        # Hand back to the assistant: it answers the visitor again.
        console.get_by_role("button", name="Resume assistant").click()
        expect(console.locator("#reply")).to_contain_text("The assistant is answering this conversation")
        expect(console.get_by_role("button", name="Send reply")).to_have_count(0)
        chat_say(chat, "where are you?")
        expect(bot_messages(chat).filter(has_text="Opening hours:")).to_have_count(1)

        # The list shows what staff did.
        console.goto(f"{assistant.servers.console_url}/conversations?q={quote(phrase)}")
        row = console.locator("#results .conversations li")
        expect(row).to_have_count(1)
        expect(row.locator(".badge.reviewed")).to_have_text("reviewed")
        expect(row.locator(".badge.tag")).to_have_text("follow-up")


# --- 3: a clinician reveals the details, and the admin sees it in the audit log -----------------


def test_clinician_reveals_the_phone_number_and_the_audit_log_shows_it(
    browser: Browser, assistant: RunningAssistant
) -> None:
    visitor = fresh_id("reveal")
    hand_off_over_rest(assistant, visitor, "07400 900456")

    with console_as(browser, assistant, "clinician") as console:
        open_conversation(console, assistant, visitor)
        expect(console.locator("aside")).to_contain_text(re.compile(r"Contact: \+44 7[• ]+456"))
        assert "900456" not in console.content(), "masked until revealed"
        console.get_by_role("button", name="Reveal personal and health details (logged)").click()
        expect(console.get_by_text("Details revealed (logged in the audit log).")).to_be_visible()
        expect(console.locator(".chat li.visitor").filter(has_text="07400 900456")).to_have_count(1)
        expect(console.locator("aside")).to_contain_text("Contact: +447400900456")

    with console_as(browser, assistant, "admin") as admin:
        admin.get_by_role("link", name="Audit log").click()
        expect(admin.get_by_role("heading", name="Audit log")).to_be_visible()
        entry = admin.locator("table.audit tbody tr").filter(has_text=visitor).filter(has_text="test-clinician")
        expect(entry).to_have_count(1)
        expect(entry.locator("td").nth(1)).to_have_text("test-clinician")
        expect(entry.locator("td").nth(2)).to_have_text("reveal")
        expect(entry.locator("td").nth(3)).to_have_text(visitor)


def without_annotations(user_text: str) -> str:
    """A test story's user text without its entity annotations: "[face](BODY_AREA)" → "face"."""
    return re.sub(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))", r"\1", user_text).strip()


# --- 4: correcting what the assistant understood, and taking it away as training data ----------


def test_relabel_a_message_and_download_the_nlu_data_and_test_story(
    browser: Browser, assistant: RunningAssistant
) -> None:
    visitor = fresh_id("relabel")
    text = "how many days before my face looks normal enough to go back to the office"
    assistant.say(visitor, "hello")
    assistant.say(visitor, text)
    label = "faq/downtime"  # the answer it should have had

    with console_as(browser, assistant, "clinician") as console:  # exports are for clinicians and admins
        open_conversation(console, assistant, visitor)
        message = console.locator(".chat li.visitor").filter(has_text=text)
        expect(message).to_have_count(1)
        message.locator("summary", has_text="Relabel").click()
        message.get_by_label("Should have been").select_option(label)
        message.get_by_role("button", name="Save").click()
        expect(console).to_have_url(re.compile(r"#message-\d+$"))
        expect(message.locator(".relabel")).to_have_text(f"relabelled as {label}")

        with console.expect_download() as nlu_download:
            console.get_by_role("link", name="All corrections as NLU data (YAML)").click()
        assert nlu_download.value.suggested_filename == "corrections-nlu.yml"
        nlu = yaml.safe_load(Path(nlu_download.value.path()).read_text(encoding="utf-8"))
        examples = {block["intent"]: block["examples"] for block in nlu["nlu"]}
        assert f"- {text}" in examples[label].splitlines()

        with console.expect_download() as story_download:
            console.get_by_role("link", name="Test story (YAML)").click()
        assert story_download.value.suggested_filename == f"story-{visitor}.yml"
        story = yaml.safe_load(Path(story_download.value.path()).read_text(encoding="utf-8"))
        assert story["stories"], story
        steps = [step for one in story["stories"] for step in one.get("steps") or []]
        said = {without_annotations(str(step.get("user", ""))): step.get("intent") for step in steps}
        assert said.get(text) == label, steps


# --- 5: nobody reads conversations without logging in -------------------------------------------


def test_console_pages_need_a_login(browser: Browser, assistant: RunningAssistant) -> None:
    with new_page(browser, LAPTOP) as page:
        page.goto(f"{assistant.servers.console_url}/conversations?q=laser")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Fconversations%3Fq%3Dlaser$"))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        expect(page.get_by_role("link", name="Conversations")).to_have_count(0)

        # Logging in goes on to the page asked for.
        page.get_by_label("Name", exact=True).fill("test-staff")
        page.get_by_label("Password", exact=True).fill(PASSWORDS["staff"])
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/conversations\?q=laser$"))
        expect(page.get_by_label("Search what visitors wrote")).to_have_value("laser")

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.goto(f"{assistant.servers.console_url}/audit")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Faudit$"))


def test_logging_in_at_a_persons_pace_while_the_browser_fetches_its_own_things(
    browser: Browser, assistant: RunningAssistant
) -> None:
    """Browsers fetch /favicon.ico (and more) by themselves: that must not spoil the login form."""
    with new_page(browser, LAPTOP) as page:
        page.goto(f"{assistant.servers.console_url}/login")
        # Typed at a person's pace; meanwhile the browser asks for /favicon.ico, as it always does.
        page.get_by_label("Name", exact=True).press_sequentially("test-staff", delay=60)
        page.get_by_label("Password", exact=True).press_sequentially(PASSWORDS["staff"], delay=60)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=3_000)


# --- 6: every page on a laptop and a phone --------------------------------------------------------


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("screen", ["laptop", "phone"])
def test_every_console_page_on_a_laptop_and_a_phone(browser: Browser, assistant: RunningAssistant, screen: str) -> None:
    visitor = fresh_id("screens")
    assistant.say(visitor, "hello")
    assistant.say(visitor, "how much does laser hair removal on the upper lip cost?")
    hand_off_over_rest(assistant, visitor, "07400 900789")
    viewport = LAPTOP if screen == "laptop" else PHONE
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = assistant.servers.console_url

    def shoot(page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"console-{name}-{screen}.png"), full_page=True)

    with new_page(browser, viewport) as page:
        page.goto(f"{base}/login")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        shoot(page, "login")
        log_in(page, assistant, "admin")
        for name, path, heading in (
            ("overview", "/", "Overview"),
            ("conversations", "/conversations", "Conversations"),
            ("conversation", f"/conversations/{visitor}", "Conversation"),
            ("bookings", "/bookings", "Booking requests"),
            ("handoffs", "/handoffs", "Requests for a person"),
            ("accounts", "/accounts", "Accounts"),
            ("audit", "/audit", "Audit log"),
        ):
            page.goto(base + path)
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            shoot(page, name)
            if screen == "phone":  # the conversation list and page above all, but none should
                assert no_horizontal_scroll(page), f"{path} scrolls sideways on a phone"


# --- visitor text is shown as text, never run -----------------------------------------------------


def test_visitor_markup_is_shown_as_text_not_run(browser: Browser, assistant: RunningAssistant) -> None:
    visitor = fresh_id("markup")
    attack = "<script>alert(1)</script> hello <img src=x onerror=alert(2)>"
    assistant.say(visitor, attack)

    with console_as(browser, assistant, "staff") as console:
        dialogs: list[str] = []
        console.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        console.goto(f"{assistant.servers.console_url}/conversations?q={quote('<script>alert(1)')}")
        row = console.locator("#results .conversations li")
        expect(row).to_have_count(1)
        expect(row.locator(".question")).to_have_text(attack)

        open_conversation(console, assistant, visitor)
        expect(console.locator(".chat li.visitor .text").first).to_have_text(attack)
        expect(console.locator("script:not([src])")).to_have_count(0)
        expect(console.locator("main img")).to_have_count(0)
        console.wait_for_timeout(300)
        assert dialogs == []
