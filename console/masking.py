"""Masks personal and health details for staff who should not read them in full.

Lists mask for everyone, and conversation pages mask for the `staff` role; clinicians and
admins see the details after a deliberate, audited "reveal" (console/app.py). Masks keep
just enough to tell two visitors apart on the phone ("+44 7••• ••• 123", "A••• S•••").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

HEALTH_ENTITIES = {"CONDITION", "MEDICATION"}  # the clinical terms nlp/ tags in visitor text
DOT = "•"
HIDDEN = DOT * 4
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Runs of 7+ digits, with the spaces, dots, dashes and brackets people put in phone numbers.
DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
MIN_PHONE_DIGITS = 7  # fewer is a year, a price or a house number, not a phone number


def mask_phone(number: str, region: str = "GB") -> str:
    """ "+447700900123" → "+44 7••• ••• 123": the country code, the first and the last 3 digits."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        prefix = f"+{parsed.country_code} "
    else:  # not readable as a number: masked as written
        shown, prefix = number, ""
    national = shown.removeprefix(prefix)
    digits = [i for i, ch in enumerate(national) if ch.isdigit()]
    keep = set(digits[:1] + digits[-3:]) if len(digits) > 6 else set()
    masked = "".join(ch if i in keep or not ch.isdigit() else DOT for i, ch in enumerate(national))
    return prefix + masked


def mask_email(address: str) -> str:
    """ "anna.smith@example.co.uk" → "a•••@e•••.uk"."""
    local, _, domain = address.partition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}{DOT * 3}@{domain[:1]}{DOT * 3}.{tld}"


def mask_name(name: str) -> str:
    """ "Anna Smith" → "A••• S•••"."""
    return " ".join(word[:1] + DOT * 3 for word in name.split())


def mask_contact(contact: str, region: str = "GB") -> str:
    """A handoff's contact: a phone number or an email address (or "via this chat only")."""
    if "@" in contact:
        return mask_email(contact)
    if any(ch.isdigit() for ch in contact):
        return mask_phone(contact, region)
    return contact


def mask_text(
    text: str,
    region: str = "GB",
    names: Iterable[str] = (),
    spans: Iterable[tuple[int, int]] = (),
) -> str:
    """Visitor text with phone numbers, emails, the given names and the given character spans
    (health terms the assistant recognised) replaced by dots."""
    hidden: list[tuple[int, int, str]] = [(start, end, HIDDEN) for start, end in spans]
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if sum(ch.isdigit() for ch in match.raw_string) >= MIN_PHONE_DIGITS:
            hidden.append((match.start, match.end, mask_phone(match.raw_string, region)))
    for m in DIGIT_RUN.finditer(text):
        if sum(ch.isdigit() for ch in m.group()) >= MIN_PHONE_DIGITS:
            hidden.append((m.start(), m.end(), mask_phone(m.group(), region)))
    hidden += [(m.start(), m.end(), mask_email(m.group())) for m in EMAIL.finditer(text)]
    return _replace(text, hidden + _name_matches(text, names))


def health_spans(entities: Iterable[dict]) -> list[tuple[int, int]]:
    """Where Rasa's parse of a message found health terms (entities with start and end)."""
    return [(e["start"], e["end"]) for e in entities if e.get("entity") in HEALTH_ENTITIES and "start" in e]


def hide_health_and_names(text: str, spans: Iterable[tuple[int, int]] = (), names: Iterable[str] = ()) -> str:
    """Only the health spans and names (for text stored masked, before its region is known)."""
    return _replace(text, [(start, end, HIDDEN) for start, end in spans] + _name_matches(text, names))


def _name_matches(text: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    found = []
    for name in names:
        for word in {w for w in name.split() if len(w) > 1}:
            pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
            found += [(m.start(), m.end(), mask_name(m.group())) for m in pattern.finditer(text)]
    return found


def _replace(text: str, hidden: list[tuple[int, int, str]]) -> str:
    """Applies non-overlapping replacements; where two overlap, the one starting first wins."""
    out, position = [], 0
    for start, end, replacement in sorted(hidden, key=lambda h: (h[0], -h[1])):
        if start < position:
            continue
        out += [text[position:start], replacement]
        position = end
    out.append(text[position:])
    return "".join(out)
