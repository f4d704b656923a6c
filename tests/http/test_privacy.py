"""A visitor's "delete my data", staff erasure and access, through the running assistant."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from examples.webhook_receiver import Verifier
from tests.console.support import logged_in
from tests.http.test_booking import REFERENCE, book
from tests.receiver import WebhookReceiver
from tests.support import WEBHOOK_SECRET, RunningAssistant
from tests.whatsapp.test_channel import WhatsAppVisitor, text_of, whatsapp  # noqa: F401 (fixture)
from tools.servers import PROJECT_ROOT

pytestmark = pytest.mark.servers
ERASURE = re.compile(r"\bER-[A-Z2-9]{6}\b")


def rows(path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(query, args).fetchall()


def transcript_rows(assistant: RunningAssistant, conversation_id: str) -> int:
    return rows(assistant.tracker_db, "SELECT count(*) FROM events WHERE sender_id = ?", conversation_id)[0][0]


def held_records(assistant: RunningAssistant, conversation_id: str) -> dict[str, int]:
    tables = ("bookings", "handoffs", "consents", "conversation_summaries", "whatsapp_contacts", "whatsapp_inbound")
    counts = {
        table: rows(assistant.records_db, f"SELECT count(*) FROM {table} WHERE conversation_id = ?", conversation_id)[
            0
        ][0]
        for table in tables
    }
    return {table: count for table, count in counts.items() if count}


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_book_then_delete_my_data(assistant: RunningAssistant, visitor: str, booking_system: WebhookReceiver) -> None:
    """The acceptance path: chat, book, "delete my data", confirm."""
    assistant.texts(visitor, "how long is the recovery?")
    booking = REFERENCE.search(book(assistant, visitor))[0]
    assert held_records(assistant, visitor)["bookings"] == 1 and held_records(assistant, visitor)["consents"] == 1
    booking_system.start()
    try:
        [delivered] = booking_system.wait_for(booking)
        assert [c["kind"] for c in delivered.json["consents"]] == ["contact"], "the consent ledger travels with it"

        question = assistant.texts(visitor, "Please delete all my data")
        assert "Shall I delete your data" in question and "can't be undone" in question
        done = assistant.texts(visitor, "yes")
        erasure = ERASURE.search(done)[0]
        assert booking in done and "deleted" in done

        assert transcript_rows(assistant, visitor) == 0
        wait_until(lambda: held_records(assistant, visitor) == {})
        [kept] = rows(
            assistant.records_db,
            "SELECT name, phone, email, concern, conversation_id FROM bookings WHERE reference = ?",
            booking,
        )
        assert kept == ("", "", None, "", f"erased:{erasure}")

        [event] = booking_system.wait_for(erasure)
        assert Verifier(WEBHOOK_SECRET).problem(event.headers, event.body) is None, "signed"
        assert event.json["event"] == "erasure" and event.json["bookings"] == [booking]
    finally:
        booking_system.stop()

    hello = assistant.texts(visitor, "hi")
    assert "automated assistant" in hello, "a new message starts afresh"
    assert assistant.tracker(visitor)["slots"]["booking_name"] is None


def test_changing_your_mind_keeps_everything(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "what does it cost?")
    assert "Shall I delete your data" in assistant.texts(visitor, "forget everything about me")
    assert "haven't deleted anything" in assistant.texts(visitor, "no")
    assert transcript_rows(assistant, visitor) > 0


@pytest.mark.parametrize(
    ("opening", "first_question"),
    [("I'd like to book a consultation", "What's your name"), ("can you check if I'm suitable?", "Do you agree")],
    ids=["booking", "pre-screen"],
)
def test_asking_in_the_middle_of_a_form_stops_it_and_asks_first(
    assistant: RunningAssistant, visitor: str, opening: str, first_question: str
) -> None:
    assert first_question in assistant.texts(visitor, opening)
    if first_question == "Do you agree":
        assistant.texts(visitor, "/affirm")  # consent given and recorded: now a health question is pending
        assert held_records(assistant, visitor) == {"consents": 1}
    assert "Shall I delete your data" in assistant.texts(visitor, "actually, delete my data")
    assert "deleted" in assistant.texts(visitor, "yes")
    assert transcript_rows(assistant, visitor) == 0
    wait_until(lambda: held_records(assistant, visitor) == {})


def test_delete_my_data_on_whatsapp(whatsapp: WhatsAppVisitor, assistant: RunningAssistant) -> None:  # noqa: F811
    whatsapp.says("hello")
    assert "Shall I delete your data" in text_of(whatsapp.says("delete my data"))
    done = text_of(whatsapp.taps("Yes, delete my data"))
    assert ERASURE.search(done), "the confirmation reaches the visitor before the contact is forgotten"
    conversation = whatsapp.contact.wa_id
    wait_until(lambda: transcript_rows(assistant, conversation) == 0)
    assert set(held_records(assistant, conversation)) <= {"whatsapp_contacts"}
    outbound = "SELECT count(*) FROM whatsapp_outbound WHERE conversation_id = ?"
    contact = "SELECT count(*) FROM whatsapp_contacts WHERE conversation_id = ?"
    gone = [(0,)]  # once the reply has gone, the delivery worker removes the rest (within ~10 s)
    wait_until(
        lambda: (
            rows(assistant.records_db, outbound, conversation)
            == rows(assistant.records_db, contact, conversation)
            == gone
        ),
        40,
    )


def test_staff_erase_from_the_console_is_audited(assistant: RunningAssistant, visitor: str, console_roles) -> None:
    assistant.texts(visitor, "I'm pregnant, can I still have it?")
    staff = logged_in(assistant, "staff")
    assert staff.post(f"/conversations/{visitor}/erase", {"confirm": "yes"}).status_code == 403
    clinician = logged_in(assistant, "clinician")
    held = clinician.get(f"/conversations/{visitor}/visitor.json")
    assert held.status_code == 200 and "pregnant" in json.dumps(held.json()["transcript"])
    assert clinician.post(f"/conversations/{visitor}/erase", {}).status_code == 400, "needs the confirmation box"
    assert transcript_rows(assistant, visitor) > 0

    erased = clinician.post(f"/conversations/{visitor}/erase", {"confirm": "yes"})
    assert erased.status_code == 200 and "Data erased" in erased.text
    reference = ERASURE.search(erased.text)[0]
    assert transcript_rows(assistant, visitor) == 0
    audit = rows(
        assistant.records_db, "SELECT actor, target FROM audit_log WHERE action = 'erase' AND target = ?", reference
    )
    assert audit == [("test-clinician", reference)]
    exports = rows(assistant.records_db, "SELECT actor FROM audit_log WHERE action = 'export' AND target = ?", visitor)
    assert ("test-clinician",) in exports


def test_command_line_export_and_erase(assistant: RunningAssistant, visitor: str) -> None:
    assistant.texts(visitor, "do you treat acne scars?")

    def privacy(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "actions.privacy", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, **assistant.servers.env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    exported = privacy("export", visitor)
    assert exported.returncode == 0, exported.stderr
    assert "do you treat acne scars?" in [e.get("text") for e in json.loads(exported.stdout)["transcript"]]

    erased = privacy("erase", visitor)
    assert erased.returncode == 0, erased.stderr
    reference = ERASURE.search(erased.stdout)[0]
    assert transcript_rows(assistant, visitor) == 0
    [(actor,)] = rows(
        assistant.records_db, "SELECT actor FROM audit_log WHERE action = 'erase' AND target = ?", reference
    )
    assert actor.startswith("cli:")
    assert json.loads(privacy("export", visitor).stdout)["erasures"][0]["reference"] == reference


def test_the_booking_queue_shows_the_consent_given(assistant: RunningAssistant, visitor: str, console_roles) -> None:
    reference = REFERENCE.search(book(assistant, visitor))[0]
    queue = logged_in(assistant, "staff").get("/bookings", params={"all": "1"}).text
    entry = queue[queue.index(reference) :]
    entry = entry[: entry.index("</li>")]
    assert re.search(r"Consent: gave contact .* wording sha256:[0-9a-f]{12}", entry)
