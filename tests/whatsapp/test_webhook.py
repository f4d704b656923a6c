"""Reading Meta's webhooks: signatures, messages of every kind, statuses, who sent what."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from channels.whatsapp.webhook import parse_notification, signature_is_valid
from tests.whatsapp.simulator import Contact, GraphSimulator, signature_for

SECRET = "app-secret"
SIMULATOR = GraphSimulator(app_secret=SECRET, access_token="token", phone_number_id="123")


def parsed(sender: Contact, message: dict):
    (message,) = parse_notification(SIMULATOR.message_webhook(sender, message)).messages
    return message


@given(st.binary(max_size=2000))
def test_only_the_exact_body_signed_with_the_app_secret_passes(body: bytes) -> None:
    good = signature_for(SECRET, body)
    assert signature_is_valid(body, good, SECRET)
    assert not signature_is_valid(body + b" ", good, SECRET)
    assert not signature_is_valid(body, signature_for("another secret", body), SECRET)
    assert not signature_is_valid(body, good.removeprefix("sha256="), SECRET)
    assert not signature_is_valid(body, None, SECRET)


def test_a_text_message_is_keyed_on_the_business_scoped_id_and_keeps_the_phone() -> None:
    message = parsed(Contact(wa_id="447700900123", user_id="GB.98765"), {"type": "text", "text": {"body": "hi"}})
    assert (message.kind, message.text) == ("text", "hi")
    assert message.sender.key == "GB.98765"
    assert message.metadata()["whatsapp"]["phone"] == "+447700900123"


def test_without_a_business_scoped_id_the_phone_number_is_the_key() -> None:
    assert parsed(Contact(), {"type": "text", "text": {"body": "hi"}}).sender.key == "447700900123"


def test_a_visitor_with_a_username_and_no_number_is_still_heard() -> None:
    message = parsed(Contact(wa_id=None, user_id="GB.555"), {"type": "text", "text": {"body": "hello"}})
    assert message.sender.key == "GB.555"
    assert "phone" not in message.metadata()["whatsapp"]


def test_button_list_and_template_replies_carry_their_payload() -> None:
    tapped = {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}}
    chosen = {"type": "list_reply", "list_reply": {"id": "/clinic_info", "title": "Hours"}}
    button, row = ({"type": "interactive", "interactive": reply} for reply in (tapped, chosen))
    template = {"type": "button", "button": {"payload": "/book_consultation", "text": "Book"}}
    for raw, payload in ((button, "/affirm"), (row, "/clinic_info"), (template, "/book_consultation")):
        message = parsed(Contact(), raw)
        assert (message.kind, message.text) == ("choice", payload)


def test_a_voice_note_is_named_as_such_and_its_content_is_not_kept() -> None:
    message = parsed(Contact(), {"type": "audio", "audio": {"id": "media-1", "mime_type": "audio/ogg", "voice": True}})
    assert message.kind == "media"
    assert message.media == {"type": "audio", "name": "voice note", "id": "media-1", "mime_type": "audio/ogg"}


def test_reactions_are_not_messages_to_answer() -> None:
    reaction = {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}}
    assert parsed(Contact(), reaction).kind == "ignored"


def test_statuses_are_read_as_statuses_with_meta_s_error_code() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
            {"id": "wamid.A", "status": "delivered", "timestamp": "1700000000", "recipient_id": "447700900123"},
            {"id": "wamid.B", "status": "failed", "timestamp": "1700000001", "recipient_id": "447700900123",
             "errors": [{"code": 131026, "title": "Message undeliverable"}]},
        ]}}]}],
    }  # fmt: skip
    notification = parse_notification(json.loads(json.dumps(body)))
    assert notification.messages == []
    assert [(s.status, s.error_code) for s in notification.statuses] == [("delivered", None), ("failed", 131026)]


def test_other_objects_and_fields_are_ignored() -> None:
    assert parse_notification({"object": "page", "entry": []}).messages == []
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "account_update", "value": {}}]}]}
    assert parse_notification(body).messages == []
