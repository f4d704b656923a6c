"""The consent ledger: each answer with its time, channel and the exact wording asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import records
from actions.privacy import consent
from tests.databases import fresh_database

WORDING = "Do you agree to answer health questions?"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    with fresh_database(request.param, tmp_path) as url:
        yield url


def test_every_answer_is_kept_in_order_with_its_wording(database: str) -> None:
    consent.save("maria", consent.SCREENING, True, "whatsapp", WORDING, database)
    consent.save("maria", consent.CONTACT, False, "whatsapp", "May we call you?", database)
    consent.save("maria", consent.SCREENING, False, "socketio", WORDING + " (reworded)", database)
    consent.save("someone-else", consent.SCREENING, True, "socketio", WORDING, database)
    with records.session(database) as db:
        ledger = consent.ledger(db, "maria")
        assert [(c.kind, c.given, c.channel) for c in ledger] == [
            ("screening", True, "whatsapp"),
            ("contact", False, "whatsapp"),
            ("screening", False, "socketio"),
        ]
        assert ledger[0].at <= ledger[1].at <= ledger[2].at
        assert ledger[0].wording_version != ledger[2].wording_version, "new text, new version"
        texts = consent.wordings(db, {c.wording_version for c in ledger})
        assert texts[ledger[0].wording_version] == WORDING
        assert len(texts) == 3


def test_a_wording_is_stored_once_however_often_it_is_agreed_to(database: str) -> None:
    for visitor in ("a", "b", "c"):
        consent.save(visitor, consent.SCREENING, True, "socketio", WORDING, database)
    with records.session(database) as db:
        assert db.query(records.ConsentWording).count() == 1
        assert db.query(records.Consent).count() == 3
