"""Reading and checking booking details: name, phone, email, preferred time. No Rasa import.

Each function returns the cleaned value or raises `Invalid` with a hint the visitor can act
on. Phone numbers become E.164 (phonenumbers), emails are checked for form only
(email-validator, no network), and free-text times ("next tuesday afternoon", "any weekday
after 5") become a concrete window inside the clinic's opening hours (dateparser for the day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from actions.clinic_config import WEEKDAYS, ClinicConfig

MAX_NAME = 100
MAX_CONCERN = 500
BOOKING_HORIZON_DAYS = 90
_MARKUP = re.compile(r"<[^>]*>|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Invalid(ValueError):
    """The answer can't be used; the message is the hint shown to the visitor."""


def clean_text(text: str, limit: int) -> str:
    """Visitor text made safe to store and show back: no markup or control characters, bounded."""
    text = " ".join(_MARKUP.sub(" ", str(text or "")).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_name(text: str) -> str:
    name = clean_text(text, MAX_NAME)
    if not re.search(r"[^\W\d_]", name):
        raise Invalid("Please tell me your name, for example “Maria Lopez”.")
    return name


def parse_phone(text: str, clinic: ClinicConfig) -> str:
    """E.164; numbers without a country code are read as the clinic's country."""
    region = clinic.phone_region
    try:
        number = phonenumbers.parse(str(text or ""), region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        example = phonenumbers.format_number(
            phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE),
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        )
        raise Invalid(
            f"That doesn't look like a phone number I can use. Please type it with its area code, e.g. {example}."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_email(text: str) -> str:
    try:
        return validate_email(str(text or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("That email address doesn't look right; please check it, e.g. name@example.com.") from None


@dataclass(frozen=True)
class Window:
    """A preferred appointment time, always inside the clinic's opening hours."""

    start: datetime
    end: datetime

    def spoken(self) -> str:
        return f"{self.start:%A %-d %B}, between {self.start:%H:%M} and {self.end:%H:%M}"


_PARTS_OF_DAY = {"morning": (time(0), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time(23, 59))}
_AFTER = re.compile(r"\b(?:after|from)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")
_BEFORE = re.compile(r"\b(?:before|until|till)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")
_AT = re.compile(r"\b(?:at|around)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?|\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b")
_ANY_DAY = re.compile(r"\b(any ?day|any ?time|whenever|asap|as soon as possible|weekdays?|any weekday|this week)\b")
_WEEKDAY_ONLY = re.compile(r"\bweekdays?\b|\bany weekday\b")
_FILLER = re.compile(
    r"\b(morning|afternoon|evening|ish|any ?time|any ?day|whenever|asap|as soon as possible|weekdays?|"
    r"any weekday|preferably|please|ideally|this week|in the|the)\b"
)
_NEXT_WEEKDAY = re.compile(r"\b(?:next|this|coming)\s+(?=(mon|tue|wed|thu|fri|sat|sun))")


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time:
    h, m = int(hour), int(minute or 0)
    if meridiem == "pm" and h < 12:
        h += 12
    elif meridiem is None and 1 <= h <= 7:
        h += 12  # "after 5" at a clinic means 17:00
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise Invalid("I couldn't read that time. Try something like “Tuesday after 2pm”.")
    return time(h, m)


def _time_range(text: str) -> tuple[time, time] | None:
    start, end = time(0), time(23, 59)
    found = False
    for part, (lo, hi) in _PARTS_OF_DAY.items():
        if part in text:
            start, end, found = lo, hi, True
    if match := _AFTER.search(text):
        start, found = _clock(*match.groups()), True
    if match := _BEFORE.search(text):
        end, found = _clock(*match.groups()), True
    if not (_AFTER.search(text) or _BEFORE.search(text)) and (match := _AT.search(text)):
        groups = match.groups()
        hour, minute, meridiem = (groups[0], groups[1], groups[2]) if groups[0] else (groups[3], groups[4], groups[5])
        at = _clock(hour, minute, meridiem)
        start = at
        end = (datetime.combine(date.today(), at) + timedelta(hours=1)).time()
        found = True
    return (start, end) if found else None


def _day(text: str, now: datetime) -> date | None:
    """The day named in `text`, once the time-of-day words are taken out ("next" means the coming one)."""
    for pattern in (_AFTER, _BEFORE, _AT, _FILLER):
        text = pattern.sub(" ", text)
    remainder = " ".join(_NEXT_WEEKDAY.sub("", text).split())
    if not remainder:
        return None
    parsed = dateparser.parse(
        remainder,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    if parsed is None:
        raise Invalid("I couldn't work out the day. Try “next Tuesday afternoon” or “any weekday after 5”.")
    return parsed.date()


def parse_window(text: str, clinic: ClinicConfig, now: datetime) -> Window:
    """The first window that matches the visitor's words and the clinic's opening hours."""
    text = clean_text(text, 200).lower()
    now = now.astimezone(clinic.zone)
    day = _day(text, now)
    flexible = day is None and bool(_ANY_DAY.search(text) or _time_range(text))
    if day is None and not flexible:
        raise Invalid("When would suit you? For example “next Tuesday afternoon” or “any weekday after 5”.")
    wanted = _time_range(text) or (time(0), time(23, 59))
    if day is not None and day < now.date():
        raise Invalid(f"{day:%A %-d %B} has already passed. Which day in the future would suit you?")
    if day is not None and day > now.date() + timedelta(days=BOOKING_HORIZON_DAYS):
        raise Invalid(f"We book up to {BOOKING_HORIZON_DAYS} days ahead. Could you choose a day before then?")

    candidates = [day] if day else [now.date() + timedelta(days=n) for n in range(1, BOOKING_HORIZON_DAYS + 1)]
    for candidate in candidates:
        if _WEEKDAY_ONLY.search(text) and candidate.weekday() >= 5:
            continue
        window = _within_hours(candidate, wanted, clinic, now)
        if window:
            return window
    if day is not None and clinic.opening_hours[WEEKDAYS[day.weekday()]] is None:
        raise Invalid(f"We're closed on {day:%A}s. Our opening hours are:\n{clinic.hours_text()}")
    raise Invalid(f"That's outside our opening hours:\n{clinic.hours_text()}\nWhich time within them would suit you?")


def _within_hours(day: date, wanted: tuple[time, time], clinic: ClinicConfig, now: datetime) -> Window | None:
    hours = clinic.opening_hours[WEEKDAYS[day.weekday()]]
    if hours is None:
        return None
    start, end = max(hours[0], wanted[0]), min(hours[1], wanted[1])
    if start >= end:
        return None
    window = Window(datetime.combine(day, start, clinic.zone), datetime.combine(day, end, clinic.zone))
    return window if window.start > now else None
