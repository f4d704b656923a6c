"""The staff console over HTTP, against the real servers: accounts, sessions, roles, and the
review loop on conversations visitors really had with the assistant."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest
import yaml
from itsdangerous import URLSafeTimedSerializer

from console.sessions import COOKIE
from tests.console.support import PASSWORDS, ConsoleClient, logged_in
from tests.support import RunningAssistant
from tools.servers import PROJECT_ROOT, VENV_BIN

pytestmark = pytest.mark.servers

PAGES = ["/", "/conversations", "/conversations/anyone", "/bookings", "/handoffs", "/accounts", "/audit"]


def wait_for_listing(client: ConsoleClient, query: str, expected: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = client.get("/conversations", params={"q": query}).text
        if expected in page or time.monotonic() > deadline:
            return page
        time.sleep(0.5)


def test_without_a_session_pages_redirect_to_login_and_json_gets_401(assistant: RunningAssistant) -> None:
    client = ConsoleClient(assistant.servers.console_url)
    for path in PAGES:
        reply = client.get(path, allow_redirects=False)
        assert reply.status_code == 302 and reply.headers["location"].startswith("/login?next="), path
    assert client.get("/api/conversations").status_code == 401
    # What a browser fetches by itself (an image, a script) gets 401, not the login page.
    assert client.get("/conversations", headers={"Sec-Fetch-Dest": "image"}).status_code == 401
    assert client.get("/favicon.ico").status_code == 204
    assert client.get("/conversations", headers={"Accept": "application/json"}).status_code == 401
    posted = client.http.post(client.base_url + "/conversations/x/notes", data={"text": "hi"}, allow_redirects=False)
    assert posted.status_code == 302


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(
    assistant: RunningAssistant, console_roles: dict
) -> None:
    from console import accounts

    url = f"sqlite:///{assistant.records_db}"
    accounts.save_account("test-lockout", "staff", "lockout-password-1", actor="tests", url=url)
    client = ConsoleClient(assistant.servers.console_url)
    refused = client.log_in("test-lockout", "not-the-password")
    assert refused.status_code == 401 and "match an account" in refused.text
    for _ in range(accounts.MAX_FAILURES - 1):
        client.log_in("test-lockout", "still-wrong-password")
    locked = client.log_in("test-lockout", "lockout-password-1")  # right, but too late
    assert locked.status_code == 401 and "locked" in locked.text
    assert "Log out" not in client.get("/").text
    admin = logged_in(assistant, "admin")
    audit = admin.get("/audit").text
    assert "login failed" in audit and "locked for" in audit


def test_forms_without_the_session_csrf_token_are_refused(assistant: RunningAssistant, console_roles: dict) -> None:
    client = logged_in(assistant, "staff")
    assert client.post("/conversations/x/tags", {"tag": "spam"}, csrf=False).status_code == 403
    forged = client.http.post(client.base_url + "/conversations/x/tags", data={"tag": "x", "csrf": "guess"})
    assert forged.status_code == 403
    # The login form has its own token: a login posted from elsewhere is refused.
    other = ConsoleClient(assistant.servers.console_url)
    reply = other.http.post(other.base_url + "/login", data={"name": "test-staff", "password": PASSWORDS["staff"]})
    assert reply.status_code == 403 and "Log out" not in reply.text


def test_an_expired_or_forged_session_goes_back_to_login(assistant: RunningAssistant, console_roles: dict) -> None:
    client = logged_in(assistant, "staff")
    account_id = int(
        URLSafeTimedSerializer("console-test-secret", salt="console-session").loads(client.http.cookies[COOKIE])["id"]
    )

    old = URLSafeTimedSerializer("console-test-secret", salt="console-session")
    signer = old.make_signer()
    signer.get_timestamp = lambda: int(time.time()) - 9 * 3600
    stale = signer.sign(old.dump_payload({"id": account_id, "csrf": "x"})).decode()
    expired = ConsoleClient(assistant.servers.console_url)
    expired.http.cookies.set(COOKIE, stale)
    reply = expired.get("/conversations")
    assert "/login" in reply.url and "session expired" in reply.text
    forged = ConsoleClient(assistant.servers.console_url)
    forged.http.cookies.set(
        COOKIE, URLSafeTimedSerializer("guessed", salt="console-session").dumps({"id": 1, "csrf": "x"})
    )
    assert "/login" in forged.get("/").url


def test_logging_out_ends_the_session_even_for_a_copied_cookie(
    assistant: RunningAssistant, console_roles: dict
) -> None:
    client = logged_in(assistant, "staff")
    copied = ConsoleClient(assistant.servers.console_url)
    copied.http.cookies.set(COOKIE, client.http.cookies[COOKIE])
    assert "Log out" in copied.get("/").text
    client.post("/logout")
    assert "/login" in copied.get("/").url
    assert "Log out" in logged_in(assistant, "staff").get("/").text  # logging in again works


def test_each_role_gets_what_it_may(assistant: RunningAssistant, console_roles: dict) -> None:
    visitor = f"roles-{time.time_ns()}"
    assistant.say(visitor, "how much does it cost?")
    expected = {
        "staff": {"/accounts": 403, "/audit": 403, "reveal": 403},
        "clinician": {"/accounts": 403, "/audit": 403, "reveal": 200},
        "admin": {"/accounts": 200, "/audit": 200, "reveal": 200},
    }
    for role, outcomes in expected.items():
        client = logged_in(assistant, role)
        for path in ("/", "/conversations", f"/conversations/{visitor}", "/bookings", "/handoffs"):
            assert client.get(path).status_code == 200, (role, path)
        assert client.get("/accounts").status_code == outcomes["/accounts"], role
        assert client.get("/audit").status_code == outcomes["/audit"], role
        client.get(f"/conversations/{visitor}")
        assert client.post(f"/conversations/{visitor}/reveal").status_code == outcomes["reveal"], role


def test_a_handed_off_visitor_is_listed_masked_revealed_for_a_clinician_and_audited(
    assistant: RunningAssistant, console_roles: dict
) -> None:
    visitor = f"review-{time.time_ns()}"
    assistant.say(visitor, "does the laser sting a lot around the mouth, my cousin Gertrude wondered")
    assistant.say(visitor, "I'm pregnant, can I still have it?")
    assistant.say(visitor, "I'd like to talk to a person")
    assistant.say(visitor, "07911 123456")
    assert assistant.tracker(visitor)["paused"]

    staff = logged_in(assistant, "staff")
    listing = wait_for_listing(staff, "cousin gertrude", visitor)
    assert visitor in listing and "person" in listing
    page = staff.get(f"/conversations/{visitor}").text
    assert "123456" not in page and "7••• •••456" in page
    # What they said about their health, and what the assistant answered to it, is masked too.
    assert "pregnancy: ••••" in page and "pregnant" not in page.lower() and "during pregnancy" not in page
    assert "Reveal personal" not in page  # the staff role cannot reveal
    assert staff.post(f"/conversations/{visitor}/reveal").status_code == 403

    clinician = logged_in(assistant, "clinician")
    clinician.get(f"/conversations/{visitor}")
    revealed = clinician.post(f"/conversations/{visitor}/reveal").text
    assert "07911 123456" in revealed or "+447911123456" in revealed
    audit = logged_in(assistant, "admin").get("/audit").text
    assert "test-clinician" in audit and visitor in audit and "reveal" in audit


def test_visitor_text_is_shown_as_text_not_markup(assistant: RunningAssistant, console_roles: dict) -> None:
    visitor = f"xss-{time.time_ns()}"
    assistant.say(visitor, "<script>alert('xss')</script> <b>hello</b> does it hurt")
    staff = logged_in(assistant, "staff")
    listing = wait_for_listing(staff, "alert(", visitor)
    page = staff.get(f"/conversations/{visitor}").text
    for html in (listing, page):
        assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_tags_reviews_notes_and_filters(assistant: RunningAssistant, console_roles: dict) -> None:
    visitor = f"tags-{time.time_ns()}"
    assistant.say(visitor, "what's the recovery time like after the treatment for a lollipop fan")
    staff = logged_in(assistant, "staff")
    wait_for_listing(staff, "lollipop fan", visitor)
    staff.get(f"/conversations/{visitor}")
    staff.post(f"/conversations/{visitor}/tags", {"tag": "  Follow-Up "})
    staff.post(f"/conversations/{visitor}/review", {"reviewed": "yes"})
    page = staff.post(f"/conversations/{visitor}/notes", {"text": "Called back <b>Tuesday</b>"}).text
    assert "follow-up" in page and "Reviewed by test-staff" in page and "Called back &lt;b&gt;Tuesday" in page
    assert visitor in staff.get("/conversations", params={"tag": "follow-up", "reviewed": "yes"}).text
    assert visitor not in staff.get("/conversations", params={"tag": "follow-up", "reviewed": "no"}).text
    assert visitor not in staff.get("/conversations", params={"q": "lollipop", "booked": "yes"}).text
    assert visitor in staff.get("/conversations", params={"q": "LOLLIPOP", "channel": "rest"}).text
    assert "is not a date" in staff.get("/conversations", params={"since": "last tuesday"}).text


def test_a_reply_needs_a_handed_off_conversation_and_a_channel_that_can_carry_it(
    assistant: RunningAssistant, console_roles: dict
) -> None:
    visitor = f"reply-{time.time_ns()}"
    assistant.say(visitor, "how long does it take?")
    staff = logged_in(assistant, "staff")
    staff.get(f"/conversations/{visitor}")
    refused = staff.post(f"/conversations/{visitor}/reply", {"text": "Hello from the clinic"})
    assert refused.status_code == 502 and "hand it over first" in refused.text
    assistant.say(visitor, "can I speak to a human please")
    assistant.say(visitor, "me@example.com")
    staff.get(f"/conversations/{visitor}")
    rest = staff.post(f"/conversations/{visitor}/reply", {"text": "Hello from the clinic"})
    # REST answers only within a request: the console says so and keeps the draft.
    assert (
        rest.status_code == 502 and "cannot receive a reply later" in rest.text and "Hello from the clinic" in rest.text
    )


def test_relabels_export_as_nlu_data_and_stories_that_rasa_accepts(
    assistant: RunningAssistant, console_roles: dict, tmp_path
) -> None:
    visitor = f"export-{time.time_ns()}"
    assistant.say(visitor, "hello")
    assistant.say(visitor, "is it ok to go on a sunbed the week after the zapping")
    staff = logged_in(assistant, "staff")
    page = staff.get(f"/conversations/{visitor}").text
    events = [e for e in assistant.tracker(visitor)["events"] if e["event"] == "user"]
    assert events
    ids = re.findall(r'name="event_id" value="(\d+)"', page)
    assert len(ids) == 2
    assert staff.post(f"/conversations/{visitor}/relabel", {"event_id": ids[1], "label": "faq/aftercare"}).ok
    assert "relabelled as <strong>faq/aftercare</strong>" in staff.get(f"/conversations/{visitor}").text
    bad = staff.post(f"/conversations/{visitor}/relabel", {"event_id": ids[1], "label": "not_an_intent"})
    assert bad.status_code == 400

    # Exports hold visitors' words unmasked: a clinician downloads them, not the staff role.
    assert staff.get("/exports/nlu.yml").status_code == 403
    assert staff.get(f"/conversations/{visitor}/story.yml").status_code == 403
    clinician = logged_in(assistant, "clinician")
    nlu = clinician.get("/exports/nlu.yml")
    assert "attachment" in nlu.headers["Content-Disposition"]
    examples = yaml.safe_load(nlu.text)["nlu"]
    assert {"intent": "faq/aftercare"}.items() <= next(e for e in examples if e["intent"] == "faq/aftercare").items()
    assert "sunbed the week after the zapping" in nlu.text
    story = clinician.get(f"/conversations/{visitor}/story.yml")
    assert story.status_code == 200, story.text[:300]
    steps = yaml.safe_load(story.text)["stories"][0]["steps"]
    assert any(step.get("intent") == "faq/aftercare" for step in steps)

    # Dropped into a copy of the project's data, both pass `rasa data validate`.
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    (data / "nlu" / "console_corrections.yml").write_text(nlu.text, encoding="utf-8")
    (data / "console_story.yml").write_text(story.text, encoding="utf-8")
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--data", str(data), "--domain", str(PROJECT_ROOT / "domain.yml"),
         "--config", str(PROJECT_ROOT / "config.yml")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    audit = logged_in(assistant, "admin").get("/audit").text
    assert "relabel" in audit and "export" in audit
