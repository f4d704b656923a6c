"""Self-tests of the Graph API simulator: if it accepts what Meta refuses, channel tests prove nothing.

Fast and Rasa-free: only the simulator, `requests` and a tiny webhook receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.receiver import WebhookReceiver
from tests.whatsapp.simulator import Contact, GraphSimulator, free_port

SECRET = "app-secret-for-tests"
TOKEN = "EAAG-test-token"
PHONE_ID = "106540352242922"


@pytest.fixture(scope="module")
def hook() -> Iterator[WebhookReceiver]:
    """One receiver for the module: stopping it takes half a second."""
    receiver = WebhookReceiver(port=free_port())
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(hook: WebhookReceiver) -> WebhookReceiver:
    hook.received.clear()
    return hook


@pytest.fixture
def sim(receiver: WebhookReceiver) -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(
        app_secret=SECRET, access_token=TOKEN, phone_number_id=PHONE_ID, webhook_url=receiver.url
    )
    simulator.start()
    yield simulator
    simulator.stop()


def post(
    sim: GraphSimulator, payload: object, token: str | None = TOKEN, phone_id: str = PHONE_ID
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(f"{sim.api_base}/{phone_id}/messages", json=payload, headers=headers, timeout=5)


def text(body: str, to: str = "447700900123") -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def buttons(*titles: str, body: str = "Pick one") -> dict:
    items = [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]
    return {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": items}},
    }


def a_list(*sections: list[str], row_title: str | None = None) -> dict:
    built = [
        {"title": f"Section {s}", "rows": [{"id": f"s{s}r{r}", "title": t} for r, t in enumerate(rows)]}
        for s, rows in enumerate(sections)
    ]
    return {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Appointments"},
            "body": {"text": "Choose a time"},
            "footer": {"text": "Times are UK time"},
            "action": {"button": "See times", "sections": built},
        },
    }


def test_accepts_text_and_answers_like_meta(sim: GraphSimulator) -> None:
    response = post(sim, text("Hello"))
    assert response.status_code == 200
    reply = response.json()
    assert reply["contacts"] == [{"input": "447700900123", "wa_id": "447700900123"}]
    [sent] = sim.sent
    assert reply["messages"] == [{"id": sent.message_id}]
    assert sent.message_id.startswith("wamid.SIM")
    assert (sent.kind, sent.text, sent.recipient, sent.choices) == ("text", "Hello", "447700900123", [])
    assert sim.sent_to("+447700900123") == [sent]
    assert post(sim, text("x" * 4096)).status_code == 200


def test_buttons_and_list_expose_their_choices(sim: GraphSimulator) -> None:
    assert post(sim, buttons("Yes", "No")).status_code == 200
    assert post(sim, a_list(["Mon 9:00", "Mon 10:00"], ["Tue 9:00"])).status_code == 200
    assert [s.kind for s in sim.sent] == ["buttons", "list"]
    assert sim.sent[0].choices == [("b0", "Yes"), ("b1", "No")]
    assert sim.sent[0].text == "Pick one"
    assert sim.sent[1].choices == [("s0r0", "Mon 9:00"), ("s0r1", "Mon 10:00"), ("s1r0", "Tue 9:00")]


def test_business_scoped_recipient_and_template(sim: GraphSimulator) -> None:
    payload = {"messaging_product": "whatsapp", "recipient": "GB.1234567890123456789", "type": "text"}
    response = post(sim, {**payload, "text": {"body": "Hi"}})
    assert response.json()["contacts"] == [{"input": "GB.1234567890123456789", "user_id": "GB.1234567890123456789"}]
    template = {"name": "appointment_reminder", "language": {"code": "en_GB"}}
    assert post(sim, {**text("-"), "type": "template", "template": template}).status_code == 200
    assert [s.kind for s in sim.sent] == ["text", "template"]
    assert sim.sent_to("GB.1234567890123456789") == sim.sent[:1]


def test_read_receipts_are_kept_apart(sim: GraphSimulator) -> None:
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    response = post(sim, {**receipt, "typing_indicator": {"type": "text"}})
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert post(sim, {**receipt, "message_id": ""}).status_code == 400
    assert (len(sim.receipts), sim.sent) == (1, [])


def too_long_row() -> dict:
    payload = a_list(["Mon 9:00"])
    payload["interactive"]["action"]["sections"][0]["rows"][0]["title"] = "x" * 25
    return payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (buttons("A", "B", "C", "D"), "has 4 buttons"),
        (buttons("Yes please, book it now"), "reply.title is 23 characters; the limit is 20"),
        (buttons("Yes", "Yes"), "titles must be unique"),
        (buttons("Yes", body=""), "interactive.body.text is required"),
        (a_list([f"Row {i}" for i in range(6)], [f"Row {i}" for i in range(6, 11)]), "11 rows in total"),
        (too_long_row(), "rows[0].title is 25 characters; the limit is 24"),
        (text("x" * 4097), "text.body is 4097 characters; the limit is 4096"),
        ({k: v for k, v in text("Hi").items() if k != "messaging_product"}, "messaging_product"),
        ({k: v for k, v in text("Hi").items() if k != "to"}, "needs 'to'"),
        (text("Hi", to="07700 900123"), "'to' must be a phone number"),
        ({**text("Hi"), "type": "image", "image": {"id": "1"}}, "unsupported in simulator"),
        ([text("Hi")], "must be a JSON object"),
    ],
)
def test_rejects_what_meta_refuses(sim: GraphSimulator, payload: object, reason: str) -> None:
    response = post(sim, payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert response.json()["error"]["type"] == "OAuthException"
    [rejected] = sim.rejected
    assert reason in rejected.reason
    assert rejected.status == 400
    assert sim.sent == []


def test_auth_and_routing(sim: GraphSimulator) -> None:
    wrong = post(sim, text("Hi"), token="nope")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, 190)
    assert post(sim, text("Hi"), token=None).status_code == 401
    assert post(sim, text("Hi"), phone_id="999").status_code == 400
    assert requests.post(f"{sim.api_base}/{PHONE_ID}/media", json={}, timeout=5).status_code == 404
    assert [r.reason for r in sim.rejected][:2] == ["wrong access token", "missing Bearer token"]
    assert (sim.sent, sim.requests_seen) == ([], 4)


def test_fail_next_then_recover(sim: GraphSimulator) -> None:
    sim.fail_next(2)
    sim.fail_next(1, status=429)
    outcomes = [post(sim, text("Hi")) for _ in range(4)]
    assert [r.status_code for r in outcomes] == [503, 503, 429, 200]
    assert [r.json()["error"]["code"] for r in outcomes[:3]] == [131000, 131000, 130429]
    assert (len(sim.sent), sim.requests_seen, sim.rejected) == (1, 4, [])


def test_stop_and_start_on_the_same_port(sim: GraphSimulator) -> None:
    base = sim.api_base
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        post(sim, text("Hi"))
    sim.start()
    sim.start()  # idempotent
    assert sim.api_base == base
    assert post(sim, text("Hi")).status_code == 200


def test_waiting_for_sends_and_for_quiet(sim: GraphSimulator) -> None:
    sim.delay_seconds = 0.1
    threading.Timer(0.2, post, (sim, text("Later"))).start()
    started = time.monotonic()
    [sent] = sim.wait_for_sends(1, timeout=5, recipient="447700900123")
    assert sent.text == "Later"
    assert time.monotonic() - started >= 0.3  # the timer, then the slow answer
    sim.wait_quiet(0.2, timeout=5)
    with pytest.raises(AssertionError, match=r"expected 2 sends within 0\.2s, got 1"):
        sim.wait_for_sends(2, timeout=0.2)


def test_deliver_signs_the_exact_bytes(sim: GraphSimulator, receiver: WebhookReceiver) -> None:
    assert sim.send_text(Contact(), "Hello", message_id="wamid.IN42").status_code == 200
    assert sim.deliver({"object": "whatsapp_business_account"}, signature=None).status_code == 200
    assert sim.deliver(b'{"not": "compact"}', signature="sha256=forged").status_code == 200
    signed, unsigned, forged = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), signed.body, hashlib.sha256).hexdigest()
    assert signed.headers["X-Hub-Signature-256"] == expected
    assert "X-Hub-Signature-256" not in unsigned.headers
    assert (forged.body, forged.headers["X-Hub-Signature-256"]) == (b'{"not": "compact"}', "sha256=forged")
    value = signed.json["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": sim.display_phone_number, "phone_number_id": PHONE_ID}
    assert value["contacts"] == [{"profile": {"name": "Alex Visitor"}, "wa_id": "447700900123"}]
    [message] = value["messages"]
    assert (message["from"], message["id"], message["type"], message["text"]) == (
        "447700900123",
        "wamid.IN42",
        "text",
        {"body": "Hello"},
    )


def test_taps_media_and_statuses(sim: GraphSimulator, receiver: WebhookReceiver) -> None:
    post(sim, buttons("Yes", "No"))
    post(sim, {**a_list(["Mon 9:00"]), "to": "447700900999"})
    choice, menu = sim.sent
    hidden = Contact(wa_id=None, user_id="GB.1234567890123456789", name="Private")
    sim.tap_button(Contact(), choice, "No")
    sim.tap_button(hidden, menu, "Mon 9:00")
    sim.tap_template_button(Contact(), "CONFIRM", "Confirm")
    sim.send_media(Contact(), "audio")
    sim.deliver_status(choice, "failed")
    with pytest.raises(AssertionError, match="no button or row titled 'Maybe'"):
        sim.tap_button(Contact(), choice, "Maybe")
    values = [json.loads(r.body)["entry"][0]["changes"][0]["value"] for r in receiver.received]
    button, row, template, audio = (v["messages"][0] for v in values[:4])
    assert button["interactive"] == {"type": "button_reply", "button_reply": {"id": "b1", "title": "No"}}
    assert button["context"] == {"from": sim.display_phone_number, "id": choice.message_id}
    assert row["interactive"] == {"type": "list_reply", "list_reply": {"id": "s0r0", "title": "Mon 9:00"}}
    assert "from" not in row
    assert row["from_user_id"] == "GB.1234567890123456789"
    assert template["button"] == {"payload": "CONFIRM", "text": "Confirm"}
    assert audio["audio"]["voice"] is True
    assert {"id", "mime_type", "sha256"} <= audio["audio"].keys()
    [status] = values[4]["statuses"]
    assert (status["id"], status["status"], status["recipient_id"]) == (choice.message_id, "failed", "447700900123")
    assert status["errors"][0]["code"] == 131047
