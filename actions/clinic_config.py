"""The clinic's facts from `clinic.yml`: loaded, validated, and kept fresh without restarts.

Plain Python (no Rasa import) so tests, the launcher and every action share one loader.
Errors name the key and the fix, because the person reading them is usually the clinic's
IT contact editing a YAML file, not a Python developer.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = PROJECT_ROOT / "clinic.yml"
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_REQUIRED_TEXT = ("name", "phone", "address", "booking_link", "timezone", "currency")


class ClinicConfigError(ValueError):
    """`clinic.yml` is missing, unreadable or has a bad value; the message says how to fix it."""


@dataclass(frozen=True)
class PriceItem:
    item: str
    price: float
    note: str = ""


@dataclass(frozen=True)
class Retention:
    """How long visitor data is kept (actions/privacy/retention.py applies it)."""

    transcripts_days: int = 180  # conversations, health answers, WhatsApp messages, handoff contacts
    bookings_days: int = 730  # a booking's name, phone and concern, and its consent records


@dataclass(frozen=True)
class ClinicConfig:
    """Everything the assistant may say about the clinic itself."""

    name: str
    phone: str
    email: str
    address: str
    booking_link: str
    lasers: tuple[str, ...]
    languages: tuple[str, ...]
    timezone: str
    opening_hours: Mapping[str, tuple[time, time] | None]
    currency: str
    prices: tuple[PriceItem, ...]
    retention: Retention = Retention()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def phone_region(self) -> str:
        """The clinic's country ("GB"): numbers written without a country code are read as its."""
        return phonenumbers.region_code_for_number(phonenumbers.parse(self.phone, None))

    def hours_text(self) -> str:
        """Opening hours as short lines, grouping consecutive days with the same hours."""
        groups: list[tuple[list[str], str]] = []
        for day in WEEKDAYS:
            span = self.opening_hours[day]
            label = "closed" if span is None else f"{span[0]:%H:%M}–{span[1]:%H:%M}"
            if groups and groups[-1][1] == label:
                groups[-1][0].append(day)
            else:
                groups.append(([day], label))
        lines = []
        for days, label in groups:
            first, last = days[0].capitalize(), days[-1].capitalize()
            span = first if len(days) == 1 else f"{first}–{last}"
            lines.append(f"{span}: {label}")
        return "\n".join(lines)

    def reply_time_text(self, now: datetime) -> str:
        """When a person from the clinic can answer, from the opening hours and `now`."""
        local = now.astimezone(self.zone)
        today = self.opening_hours[WEEKDAYS[local.weekday()]]
        if today and today[0] <= local.time() < today[1]:
            return f"We're open now (until {today[1]:%H:%M}), so a member of the team will get back to you today."
        for days_ahead in range(8):
            day = local.date() + timedelta(days=days_ahead)
            hours = self.opening_hours[WEEKDAYS[day.weekday()]]
            if hours and (days_ahead > 0 or local.time() < hours[0]):
                when = "today" if days_ahead == 0 else ("tomorrow" if days_ahead == 1 else f"on {day:%A}")
                return (
                    f"We're closed right now; a member of the team will get back to you {when} from {hours[0]:%H:%M}."
                )
        return "A member of the team will get back to you as soon as the clinic reopens."

    def price_text(self) -> str:
        symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(self.currency, self.currency + " ")
        lines = []
        for entry in self.prices:
            amount = f"{entry.price:,.0f}" if entry.price == int(entry.price) else f"{entry.price:,.2f}"
            note = f" ({entry.note})" if entry.note else ""
            lines.append(f"• {entry.item}: {symbol}{amount}{note}")
        return "\n".join(lines)

    def as_slots(self) -> dict[str, str]:
        """The facts responses interpolate, as Rasa slot values."""
        return {
            "clinic_name": self.name,
            "clinic_phone": self.phone,
            "clinic_email": self.email,
            "clinic_address": self.address,
            "clinic_hours": self.hours_text(),
            "clinic_languages": spoken_list(self.languages),
            "clinic_lasers": spoken_list(self.lasers),
            "clinic_prices": self.price_text(),
            "booking_link": self.booking_link,
        }


def spoken_list(items: tuple[str, ...]) -> str:
    """("English", "Spanish", "French") -> "English, Spanish and French"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def config_path() -> Path:
    """`CLINIC_CONFIG` overrides the location, e.g. for a second clinic or a test."""
    return Path(os.environ.get("CLINIC_CONFIG", DEFAULT_PATH))


def load_clinic_config(path: Path | None = None) -> ClinicConfig:
    path = Path(path or config_path())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClinicConfigError(
            f"{path} does not exist. Copy clinic.yml from the repository and fill in the clinic's details."
        ) from None
    except yaml.YAMLError as error:
        raise ClinicConfigError(f"{path} is not valid YAML ({error}). Check indentation and quotes.") from None
    if not isinstance(raw, dict):
        raise ClinicConfigError(f"{path} should contain keys such as 'name:' and 'phone:', one per line.")
    return _parse(raw, path)


def _parse(raw: dict[str, Any], path: Path) -> ClinicConfig:
    def fail(key: str, problem: str) -> ClinicConfigError:
        return ClinicConfigError(
            f"{path}: '{key}' {problem}. Fix it in {path.name} (see the example in the repository)."
        )

    for key in _REQUIRED_TEXT:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(key, "is missing or empty; it should be a line of text")
    try:
        ZoneInfo(raw["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("timezone", f"is '{raw['timezone']}', not a time zone name like 'Europe/London'") from None
    if not str(raw["booking_link"]).startswith(("https://", "http://")):
        raise fail("booking_link", "should be a web address starting with https://")

    languages = _text_list(raw, "languages", "a list of languages, e.g. [English, Spanish]", fail)
    lasers = _text_list(raw, "lasers", "a list of the lasers used, e.g. [a fractional CO2 laser (ablative)]", fail)

    return ClinicConfig(
        name=raw["name"].strip(),
        phone=raw["phone"].strip(),
        email=str(raw.get("email") or "").strip(),
        address=raw["address"].strip(),
        booking_link=raw["booking_link"].strip(),
        lasers=lasers,
        languages=languages,
        timezone=raw["timezone"],
        opening_hours=_parse_hours(raw.get("opening_hours"), fail),
        currency=raw["currency"].strip().upper(),
        prices=_parse_prices(raw.get("prices"), fail),
        retention=_parse_retention(raw.get("retention"), fail),
    )


def _text_list(raw: dict[str, Any], key: str, expected: str, fail) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
        raise fail(key, f"should be {expected}")
    return tuple(x.strip() for x in value)


def _parse_hours(hours: Any, fail) -> dict[str, tuple[time, time] | None]:
    if not isinstance(hours, dict):
        raise fail("opening_hours", 'is missing; give each day as "09:00-18:00" or closed')
    parsed: dict[str, tuple[time, time] | None] = {}
    for day in WEEKDAYS:
        value = hours.get(day)
        key = f"opening_hours.{day}"
        if value is None:
            raise fail(key, 'is missing; write "09:00-18:00" or closed')
        if str(value).strip().lower() == "closed":
            parsed[day] = None
            continue
        match = _HOURS.match(str(value).strip())
        if not match:
            raise fail(key, f"is '{value}'; it should look like \"09:00-18:00\" or closed")
        opens = time(int(match[1]), int(match[2]))
        closes = time(int(match[3]), int(match[4]))
        if closes <= opens:
            raise fail(key, f"closes ({closes:%H:%M}) before it opens ({opens:%H:%M})")
        parsed[day] = (opens, closes)
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise fail("opening_hours", f"has unknown day(s) {sorted(unknown)}; use monday … sunday")
    return parsed


def _parse_prices(prices: Any, fail) -> tuple[PriceItem, ...]:
    if not isinstance(prices, list) or not prices:
        raise fail("prices", "should be a list of '- item: …' and 'price: …' entries")
    items = []
    for index, entry in enumerate(prices):
        key = f"prices[{index + 1}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), str):
            raise fail(key, "needs 'item:' (text) and 'price:' (a number)")
        price = entry.get("price")
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
            raise fail(f"{key}.price", f"is '{price}'; it should be a number such as 350")
        items.append(PriceItem(entry["item"].strip(), float(price), str(entry.get("note") or "").strip()))
    return tuple(items)


def _parse_retention(retention: Any, fail) -> Retention:
    if retention is None:
        return Retention()
    if not isinstance(retention, dict):
        raise fail("retention", "should be '{transcripts_days: 180, bookings_days: 730}'")
    unknown = set(retention) - {"transcripts_days", "bookings_days"}
    if unknown:
        raise fail("retention", f"has unknown key(s) {sorted(unknown)}; use transcripts_days and bookings_days")
    days = {}
    for key, default in (("transcripts_days", Retention.transcripts_days), ("bookings_days", Retention.bookings_days)):
        value = retention.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(f"retention.{key}", f"is '{value}'; it should be a whole number of days, at least 1")
        days[key] = value
    if days["bookings_days"] < days["transcripts_days"]:
        raise fail("retention.bookings_days", "is shorter than transcripts_days; a booking outlives its chat")
    return Retention(**days)


class ClinicFacts:
    """Serves the current config, re-reading the file only when it changed on disk.

    A conversation start costs one `stat()`. If the clinic saves a broken file while the
    assistant runs, visitors keep getting the last good facts and the error is reported once.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = Path(path) if path else None
        self._lock = threading.Lock()
        self._config: ClinicConfig | None = None
        self._stamp: tuple[int, int] | None = None
        self.last_error: ClinicConfigError | None = None

    def current(self) -> ClinicConfig:
        path = self._path or config_path()
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if self._config is not None and stamp == self._stamp:
                return self._config
            try:
                self._config = load_clinic_config(path)
                self._stamp = stamp
                self.last_error = None
            except ClinicConfigError as error:
                if self._config is None:
                    raise
                self.last_error = error
            return self._config


# One per process: the action server's actions and the web chat page share it.
CLINIC_FACTS = ClinicFacts()


def main() -> int:
    """`python -m actions.clinic_config`: check clinic.yml and show what visitors will be told."""
    try:
        config = load_clinic_config()
    except ClinicConfigError as error:
        print(f"clinic.yml problem: {error}")
        return 1
    print(f"{config_path()} is valid: {config.name}, {config.phone}")
    print(config.hours_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
