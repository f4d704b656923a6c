"""The web chat page in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from examples.webhook_receiver import Verifier
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.receiver import WebhookReceiver
from tests.support import WEBHOOK_SECRET, RunningAssistant


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def bot_messages(page: Page):
    return page.locator(".msg--bot")


def test_chat_on_a_phone_screen(page: Page, assistant: RunningAssistant) -> None:
    page.goto(f"{assistant.url}/chat/")
    expect(page).to_have_title("Aurora Skin Clinic · Chat")

    # The greeting arrives by itself and says it is automated.
    expect(bot_messages(page).first).to_contain_text("automated assistant")

    # Quick replies are real buttons, reachable from the keyboard.
    button = page.get_by_role("button", name="How it works")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".msg--user").last).to_have_text("You: How it works")
    expect(bot_messages(page).filter(has_text="tiny columns")).to_have_count(1)
    expect(page.get_by_role("button", name="Laser types")).to_be_visible()  # the whole answer is in
    expect(button).to_be_disabled()

    # Typing works from the keyboard, and the typing indicator shows until the reply.
    page.evaluate(
        """() => { window.sawTyping = false;
        new MutationObserver(() => { if (document.querySelector('.typing')) window.sawTyping = true; })
          .observe(document.getElementById('log'), {childList: true}); }"""
    )
    page.get_by_label("Your message").fill("who won the football last night?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg--user").last).to_have_text("You: who won the football last night?")
    expect(bot_messages(page).filter(has_text="outside what I can help with")).to_have_count(1)
    expect(bot_messages(page).last).to_contain_text("outside what I can help with")
    assert page.evaluate("window.sawTyping") is True
    expect(page.locator(".typing")).to_have_count(0)

    # Readable on a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "webchat-phone.png"))


def test_reload_continues_the_same_conversation(page: Page, assistant: RunningAssistant) -> None:
    page.goto(f"{assistant.url}/chat/")
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    page.get_by_label("Your message").fill("are you a bot?")
    page.get_by_role("button", name="Send").click()
    expect(bot_messages(page).last).to_contain_text("not a person")
    session_id = page.evaluate("localStorage.getItem('clinic-chat-session')")

    # The device keeps the server-issued id and nothing else: no word of the conversation.
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}", session_id)
    assert page.evaluate("Object.keys(localStorage)") == ["clinic-chat-session"]

    page.reload()
    expect(page.locator(".note")).to_contain_text("your conversation continues")
    expect(page.locator(".msg")).to_have_count(0)  # nothing was kept to show again, and no second greeting
    page.get_by_label("Your message").fill("where are you?")
    page.keyboard.press("Enter")
    expect(bot_messages(page).filter(has_text="Opening hours:")).to_have_count(1)

    assert page.evaluate("Object.keys(localStorage)") == ["clinic-chat-session"]
    assert page.evaluate("localStorage.getItem('clinic-chat-session')") == session_id
    events = assistant.tracker(session_id)["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said == ["/greet", "are you a bot?", "where are you?"], "one server-side conversation"
    assert [e["event"] for e in events].count("session_started") == 1


def test_a_stored_id_not_issued_by_the_server_starts_a_new_conversation(
    page: Page, assistant: RunningAssistant
) -> None:
    page.goto(f"{assistant.url}/chat/")
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    page.evaluate("localStorage.setItem('clinic-chat-session', 'someone-elses-conversation')")

    page.reload()
    expect(page.locator(".note")).to_have_text("A new conversation has started.")
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    given = page.evaluate("localStorage.getItem('clinic-chat-session')")
    assert given != "someone-elses-conversation" and re.fullmatch(r"[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}", given)


def test_booking_on_the_web_chat_arrives_once_signed_after_an_outage(
    page: Page, assistant: RunningAssistant, booking_system: WebhookReceiver
) -> None:
    booking_system.stop()
    page.goto(f"{assistant.url}/chat/")
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    for text, reply in (
        ("I'd like to book a consultation", "What's your name?"),
        ("Maria Lopez", "Which phone number"),
        ("07400 123456", "email address"),
        ("skip", "When would suit you?"),
        ("next tuesday afternoon", "Which area or concern"),
        ("acne scars", "agree that the clinic contacts you"),
    ):
        page.get_by_label("Your message").fill(text)
        page.keyboard.press("Enter")
        expect(bot_messages(page).last).to_contain_text(reply)
    page.get_by_role("button", name="Yes", exact=True).click()
    page.get_by_role("button", name="Yes, send it").click()
    expect(bot_messages(page).last).to_contain_text("Your request is with the clinic")
    reference = re.search(r"BK-[A-Z2-9]{6}", bot_messages(page).last.inner_text())[0]

    booking_system.start()
    try:
        [delivery] = booking_system.wait_for(reference)
        assert Verifier(WEBHOOK_SECRET).problem(delivery.headers, delivery.body) is None
        time.sleep(2)
        assert len(booking_system.with_key(reference)) == 1
    finally:
        booking_system.stop()
