"""How long ago something was, from the words visitors use: "a fortnight ago", "2 yrs back",
"over a year ago", "in 2019", "as a teenager".

Plain Python (the spaCy context component and the screen's answer reading share it). It only
ever returns a time it can read; anything else is None, and the screen treats an unread time as
unknown, never as "long ago". Approximate by design: a week is 7 days, a month 30, a year 365;
the windows it is compared with (6 weeks, 12 months) are far wider than that error.
"""

from __future__ import annotations

import re
from datetime import date

UNIT_DAYS = {
    "day": 1,
    "week": 7,
    "wk": 7,
    "fortnight": 14,
    "month": 30,
    "mth": 30,
    "year": 365,
    "yr": 365,
    "decade": 3650,
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "couple": 2, "few": 3, "several": 3,
}  # fmt: skip
_UNIT = r"(day|week|wk|fortnight|month|mth|year|yr|decade)s?"
_AMOUNT = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
# "2 years ago", "a couple of weeks back", "over a year ago", "about six years ago"
_ABOUT = r"(?:(?:over|more than|about|around|nearly|almost|roughly|like)\s+)?"
_AGO = re.compile(rf"\b{_ABOUT}{_AMOUNT}(?:\s+of)?\s+{_UNIT}\s+(?:ago|back|before)\b")
_BARE_AGO = re.compile(rf"\b{_UNIT}\s+(?:ago|back)\b")  # "years ago", "months back": at least two of them
_LAST = re.compile(r"\blast\s+(weekend|week|month|year|summer|winter|spring|autumn|fall)\b")
_YEAR = re.compile(r"\b(?:in|back in|until|till)\s+((?:19|20)\d\d)\b")  # not "since 2019": that goes on
_LONG_AGO = re.compile(
    r"\b(ages ago|years and years|long time ago|long ago|as a (?:teen(?:ager)?|kid|child)|when i was (?:a )?"
    r"(?:teen(?:ager)?|kid|child|young|younger|little|at school|at uni)|at (?:uni|school)"
    r"|in my (?:teens|twenties|youth)|long (?:since|gone|over|finished|done|stopped))\b"
)
SEASON_DAYS = {
    "weekend": 7,
    "week": 7,
    "month": 30,
    "year": 365,
    "summer": 120,
    "winter": 120,
    "spring": 120,
    "autumn": 120,
    "fall": 120,
}
LONG_AGO_DAYS = 3650


def days_ago(text: str, today: date | None = None) -> int | None:
    """The shortest time ago the text states, in days; None when it states none.

    The shortest, because of two times ("stopped 2 weeks ago, I went 3 years ago") the recent
    one is the one a window must see.
    """
    said = text.lower()
    found: list[int] = []
    for match in _AGO.finditer(said):
        amount, unit = match.group(1), match.group(2)
        count = float(amount) if amount[0].isdigit() else NUMBER_WORDS[amount]
        found.append(int(count * UNIT_DAYS[unit]))
    if not found:
        found += [2 * UNIT_DAYS[m.group(1)] for m in _BARE_AGO.finditer(said)]
    found += [SEASON_DAYS[m.group(1)] for m in _LAST.finditer(said)]
    year = (today or date.today()).year
    found += [max(0, (year - int(m.group(1))) * 365) for m in _YEAR.finditer(said)]
    if _LONG_AGO.search(said):
        found.append(LONG_AGO_DAYS)
    return min(found) if found else None
