"""The channel's records on real databases (SQLite, and PostgreSQL as several servers share it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from actions import records
from actions.records import WhatsAppContact, WhatsAppOutbound
from channels.whatsapp import store
from channels.whatsapp.render import Choice, text_message
from channels.whatsapp.webhook import parse_notification
from tests.databases import fresh_database
from tests.whatsapp.simulator import Contact, GraphSimulator

SIMULATOR = GraphSimulator(app_secret="s", access_token="t", phone_number_id="1")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


def webhook(text: str = "hi", message_id: str | None = None) -> dict:
    return SIMULATOR.message_webhook(Contact(), {"type": "text", "text": {"body": text}, "id": message_id or "wamid.1"})


def test_a_message_delivered_twice_is_new_only_once(database: str) -> None:
    body = webhook(message_id="wamid.twice")
    assert len(store.record_arrivals(parse_notification(body))) == 1
    assert store.record_arrivals(parse_notification(body)) == []


def test_concurrent_deliveries_of_one_message_give_one_turn(database: str) -> None:
    body = webhook(message_id="wamid.race")
    with ThreadPoolExecutor(8) as pool:
        fresh = list(pool.map(lambda _: store.record_arrivals(parse_notification(body)), range(8)))
        claims = list(pool.map(lambda _: store.claim("wamid.race"), range(8)))
    assert sum(len(f) for f in fresh) == 1
    assert claims.count(True) == 1


def test_an_acknowledged_message_whose_turn_never_ran_is_found_again(database: str) -> None:
    (message,) = store.record_arrivals(parse_notification(webhook("does it hurt?", "wamid.lost")))
    assert store.unfinished() == [], "a message just received is in its server's hands"
    assert [m.text for m in store.unfinished(timedelta(0))] == ["does it hurt?"]
    store.claim(message.message_id)
    assert store.unfinished(timedelta(0)) == []  # being answered now
    store.release(message.message_id)  # its turn could not start
    assert store.claim(message.message_id)
    store.queue(message.conversation_id, [text_message("Some discomfort…")], answering=message.message_id)
    assert store.unfinished(timedelta(0)) == []
    assert not store.claim(message.message_id), "a message is answered once"
    with records.session() as db:
        kept = db.scalars(select(records.WhatsAppInbound.message)).one()
    assert "does it hurt" not in kept  # the transcript holds it from now on


def test_statuses_are_stored_once_each(database: str) -> None:
    status = {"id": "wamid.out", "status": "read", "timestamp": "1700000000", "recipient_id": "447700900123"}
    change = {"field": "messages", "value": {"statuses": [status]}}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [change]}]}
    store.record_arrivals(parse_notification(body))
    store.record_arrivals(parse_notification(body))
    with records.session() as db:
        assert db.scalars(select(records.WhatsAppStatus.status)).all() == ["read"]


def contact_after(text: str, database: str) -> str:
    (message,) = store.record_arrivals(parse_notification(webhook(text, f"wamid.{uuid.uuid4().hex}")))
    store.note_inbound(message)
    return message.sender.key


def test_messages_wait_in_order_and_the_oldest_goes_first(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("first"), text_message("second")])
    outbound, contact = store.next_due(key)
    assert '"first"' in outbound.body and contact.wa_id == "447700900123"
    assert store.next_due(key) is None  # leased: the second waits for the first
    store.mark_retry(outbound.id, timedelta(0), "HTTP 503", None)
    assert '"first"' in store.next_due(key)[0].body


def test_after_24_hours_messages_are_held_for_staff_not_sent(database: str) -> None:
    key = contact_after("hi", database)
    with records.session() as db:
        db.execute(update(WhatsAppContact).values(last_inbound_at=records.utcnow() - timedelta(hours=25)))
    store.queue(key, [text_message("A reply from the clinic")])
    assert store.next_due(key) is None
    (problem,) = store.problems()
    assert problem["state"] == "held" and "24-hour" in problem["reason"]


def test_stop_holds_everything_but_its_confirmation(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("queued before STOP")])
    store.set_opted_out(key, True)
    store.queue(key, [text_message("a later reply")])
    store.queue(key, [text_message("confirmation")], confirmation=True)
    with records.session() as db:
        states = db.execute(select(WhatsAppOutbound.body, WhatsAppOutbound.state).order_by(WhatsAppOutbound.id)).all()
    assert [state for _, state in states] == ["held", "held", "pending"]


def test_a_number_answers_the_latest_numbered_menu_only(database: str) -> None:
    key = contact_after("hi", database)
    menu = text_message("1. A\n2. B")
    menu.numbered = [Choice("A", "/a"), Choice("B", "/b")]
    store.queue(key, [menu])
    assert [store.menu_choice(key, typed) for typed in ("2", " 1. ", "3")] == ["/b", "/a", None]
    store.queue(key, [text_message("How many sessions would you like?")])
    assert store.menu_choice(key, "2") is None


def test_a_later_message_waits_for_the_visitor_s_earlier_one(database: str) -> None:
    (first,) = store.record_arrivals(parse_notification(webhook("hello", "wamid.first")))
    (second,) = store.record_arrivals(parse_notification(webhook("does it hurt?", "wamid.second")))
    assert not store.claim(second.message_id), "turns run in the order the visitor wrote"
    assert store.claim(first.message_id)
    store.finish(first.message_id)
    assert store.claim(second.message_id)


def test_a_visitor_keeps_their_conversation_when_meta_adds_a_business_scoped_id(database: str) -> None:
    by_phone = Contact(wa_id="447400111222")
    (first,) = store.record_arrivals(parse_notification(SIMULATOR.message_webhook(by_phone, {"type": "text"})))
    store.note_inbound(first)
    with_id = Contact(wa_id="447400111222", user_id="GB.777")
    (later,) = store.record_arrivals(parse_notification(SIMULATOR.message_webhook(with_id, {"type": "text"})))
    assert later.conversation_id == first.conversation_id == "447400111222"
    contact = store.note_inbound(later)
    assert (contact.wa_id, contact.user_id) == ("447400111222", "GB.777")
    hidden = Contact(wa_id=None, user_id="GB.777")  # the visitor now hides their number
    (latest,) = store.record_arrivals(parse_notification(SIMULATOR.message_webhook(hidden, {"type": "text"})))
    assert latest.conversation_id == "447400111222"
    assert store.note_inbound(latest).wa_id == "447400111222", "the number they shared is still known"


def test_an_older_message_arriving_late_does_not_shorten_the_24_hour_window(database: str) -> None:
    (new,) = store.record_arrivals(parse_notification(webhook("new", "wamid.new")))
    store.note_inbound(new)
    (old,) = store.record_arrivals(parse_notification(webhook("old", "wamid.old")))
    old = replace(old, sent_at=new.sent_at - timedelta(hours=30))
    assert store.note_inbound(old).last_inbound_at == new.sent_at


def test_of_several_servers_asking_at_once_exactly_one_sends_a_message(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("only once")])
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda n: store.next_due(key, server=f"server-{n}"), range(8)))
    (winner,) = [claim for claim in claims if claim]
    outbound, _ = winner
    assert outbound.attempts == 1 and outbound.claimed_by.startswith("server-")


def test_a_conversation_whose_oldest_message_another_server_sends_waits_for_it(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("first"), text_message("second")])
    first, _ = store.next_due(key, server="server-a")
    assert store.next_due(key, server="server-b") is None, "the second is due, but goes after the first"
    assert not store.mark_sent(first.id, "wamid.x", server="server-b"), "only the claimant stores the result"
    assert store.mark_sent(first.id, "wamid.1", server="server-a")
    second, _ = store.next_due(key, server="server-b")
    assert '"second"' in second.body


def test_a_server_whose_claim_ran_out_cannot_overwrite_the_new_sender_s_result(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("hello")])
    stale, _ = store.next_due(key, server="server-a")
    with records.session() as db:  # server-a stopped answering: its lease runs out
        db.execute(update(WhatsAppOutbound).values(lease_until=records.utcnow() - timedelta(seconds=1)))
    fresh, _ = store.next_due(key, server="server-b")
    assert fresh.id == stale.id and fresh.attempts == 2
    assert store.mark_sent(fresh.id, "wamid.b", server="server-b")
    assert not store.mark_failed(stale.id, "HTTP 400", 100, server="server-a")
    assert not store.mark_retry(stale.id, timedelta(seconds=5), "HTTP 503", None, server="server-a")
    with records.session() as db:
        sent = db.get(WhatsAppOutbound, fresh.id)
    assert (sent.state, sent.message_id, sent.claimed_by, sent.error, sent.lease_until) == (
        "sent", "wamid.b", "server-b", None, None
    )  # fmt: skip
    assert store.next_due(key, server="server-a") is None


def test_a_message_held_by_stop_while_it_was_being_sent_keeps_its_reason(database: str) -> None:
    key = contact_after("hi", database)
    store.queue(key, [text_message("sending when STOP came")])
    outbound, _ = store.next_due(key)
    store.set_opted_out(key, True)
    assert not store.mark_retry(outbound.id, timedelta(0), "HTTP 503", None)
    (problem,) = store.problems()
    assert problem["state"] == "held" and problem["reason"] == store.OPTED_OUT
