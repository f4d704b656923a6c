"""How long ago, as visitors say it (nlp/durations.py); anything unread is None, never "long ago"."""

from __future__ import annotations

from datetime import date

import pytest

from nlp.durations import days_ago

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("stopped a fortnight ago", 14),
        ("2 weeks ago", 14),
        ("a couple of weeks back", 14),
        ("about six years ago", 2190),
        ("over a year ago", 365),
        ("3 months ago", 90),
        ("2 yrs ago", 730),
        ("years ago", 730),
        ("last week", 7),
        ("from last weekend", 7),
        ("last summer", 120),
        ("in 2019", 2555),
        ("as a teenager", 3650),
        ("when I was at uni", 3650),
        ("a week ago, and 3 years ago before that", 7),
    ],
)
def test_a_stated_time_is_read(text: str, days: int) -> None:
    assert days_ago(text, TODAY) == days


@pytest.mark.parametrize("text", ["since 2019", "till March", "every day", "for 3 months", "recently", "soon", ""])
def test_anything_else_is_no_time(text: str) -> None:
    assert days_ago(text, TODAY) is None
