"""The numbers on the console's overview, from the conversation index and the bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from console.models import ConversationSummary, FaqAsk

DAYS = 30
TOP_FAQ = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""


@dataclass(frozen=True)
class Overview:
    funnel: list[Bar]
    top_faq: list[Bar]
    fallback_rate: list[Bar]  # per day, in percent
    bookings: list[Bar]  # per day
    reviewed: float  # percent
    conversations: int


def _count(condition) -> object:
    return func.sum(cast(condition, Integer))


def overview(db: Session, today: date) -> Overview:
    s = ConversationSummary
    totals = db.execute(
        select(
            func.count(),
            _count(s.faq_answers > 0),
            _count(s.screening_started),
            _count(s.screening_outcome == "eligible"),
            _count(s.screening_outcome == "clinician_review"),
            _count(s.screening_outcome == "not_suitable"),
            _count(s.booked),
            _count(s.reviewed),
        )
    ).one()
    count, answered, screened, eligible, review, unsuitable, booked, reviewed = (int(v or 0) for v in totals)
    funnel = [
        Bar("Conversations", count),
        Bar("Questions answered", answered),
        Bar("Pre-screens started", screened),
        Bar("Pre-screen: eligible", eligible),
        Bar("Pre-screen: clinician review", review),
        Bar("Pre-screen: not suitable", unsuitable),
        Bar("Bookings", booked),
    ]
    top = db.execute(
        select(FaqAsk.faq_key, func.count()).group_by(FaqAsk.faq_key).order_by(func.count().desc()).limit(TOP_FAQ)
    ).all()
    first_day = today - timedelta(days=DAYS - 1)
    per_day = {
        day: (int(n), int(fell or 0), int(bk or 0))
        for day, n, fell, bk in db.execute(
            select(s.started_on, func.count(), _count(s.fell_back), _count(s.booked))
            .where(s.started_on >= first_day)
            .group_by(s.started_on)
        )
    }
    days = [first_day + timedelta(days=i) for i in range(DAYS)]
    fallback, bookings = [], []
    for day in days:
        n, fell, bk = per_day.get(day, (0, 0, 0))
        label = day.strftime("%d %b")
        fallback.append(Bar(label, round(100 * fell / n, 1) if n else 0, f"{fell} of {n}"))
        bookings.append(Bar(label, bk))
    return Overview(
        funnel=funnel,
        top_faq=[Bar(key.replace("_", " "), n) for key, n in top],
        fallback_rate=fallback,
        bookings=bookings,
        reviewed=round(100 * reviewed / count, 1) if count else 0.0,
        conversations=count,
    )
