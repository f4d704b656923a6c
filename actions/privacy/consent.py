"""The consent ledger: each yes or no to a consent question, with when, where and to what wording.

The wording is versioned by its own digest, so a change to the question's text is a new
version automatically, and `consent_wordings` keeps the exact text each version stood for.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions import records
from actions.records import Consent, ConsentWording

SCREENING = "screening"  # to answer health questions (the pre-screen)
CONTACT = "contact"  # to be contacted by the clinic about a booking


def wording_version(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def record(db: Session, conversation_id: str, kind: str, given: bool, channel: str, wording: str) -> Consent:
    """Adds one answer to the ledger (and the wording, the first time it is used)."""
    version = wording_version(wording)
    if db.get(ConsentWording, version) is None:
        try:
            with db.begin_nested():  # another process may store the same wording at the same moment
                db.add(ConsentWording(version=version, kind=kind, text=wording, first_used_at=records.utcnow()))
        except IntegrityError:
            pass
    consent = Consent(
        conversation_id=conversation_id,
        kind=kind,
        given=given,
        at=records.utcnow(),
        channel=channel,
        wording_version=version,
    )
    db.add(consent)
    return consent


def save(conversation_id: str, kind: str, given: bool, channel: str, wording: str, url: str | None = None) -> None:
    with records.session(url) as db:
        record(db, conversation_id, kind, given, channel, wording)


def ledger(db: Session, conversation_id: str) -> list[Consent]:
    """Every answer of one conversation, oldest first."""
    query = select(Consent).where(Consent.conversation_id == conversation_id).order_by(Consent.at, Consent.id)
    return list(db.scalars(query))


def wordings(db: Session, versions: set[str]) -> dict[str, str]:
    query = select(ConsentWording).where(ConsentWording.version.in_(versions))
    return {wording.version: wording.text for wording in db.scalars(query)}
