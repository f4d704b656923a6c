"""The audit log: who read or changed what, and when. The console only ever appends to it
(and the database refuses updates and deletes: migration 0003)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions import records
from console.models import AuditEntry

PAGE_SIZE = 100


def record(db: Session, actor: str, action: str, target: str | None = None, detail: str | None = None) -> None:
    db.add(AuditEntry(at=records.utcnow(), actor=actor, action=action, target=target, detail=detail))


def write(actor: str, action: str, target: str | None = None, detail: str | None = None, url: str | None = None):
    with records.session(url) as db:
        record(db, actor, action, target, detail)


def entries(page: int = 1, url: str | None = None) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many there are in all."""
    with records.session(url) as db:
        total = db.scalar(select(func.count()).select_from(AuditEntry))
        rows = db.scalars(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )
        return list(rows), total
