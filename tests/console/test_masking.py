"""Masking: what staff see of phone numbers, emails, names and health details."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from console.masking import HIDDEN, mask_contact, mask_email, mask_name, mask_phone, mask_text


def test_a_phone_number_keeps_country_code_first_and_last_digits() -> None:
    assert mask_phone("+447700900123") == "+44 7••• •••123"
    assert mask_phone("07700 900123", "GB") == "+44 7••• •••123"


def test_written_phone_numbers_are_masked_in_visitor_text_however_they_are_typed() -> None:
    for written in ("07700 900123", "07700900123", "+44 7700 900123", "(07700) 900-123", "+44 (0)7700 900123"):
        masked = mask_text(f"you can call me on {written} after 5", "GB")
        assert "900123" not in masked.replace(" ", "").replace("-", ""), masked
        assert masked.startswith("you can call me on ") and masked.endswith(" after 5")


def test_years_prices_and_short_numbers_are_not_taken_for_phone_numbers() -> None:
    for text in ("I was born in 1985", "it costs 1200 pounds?", "3 sessions, 4 weeks apart", "flat 12, 221b"):
        assert mask_text(text, "GB") == text


def test_emails_and_names_are_masked() -> None:
    assert mask_email("anna.smith@example.co.uk") == "a•••@e•••.uk"
    assert mask_name("Anna Smith") == "A••• S•••"
    text = mask_text("I'm anna smith, email anna.smith@example.com", "GB", names=["Anna Smith"])
    assert "anna" not in text.lower().replace("a•••", "") and "smith" not in text.lower()


def test_health_terms_are_hidden_by_their_span() -> None:
    text = "I think I'm pregnant"
    start = text.index("pregnant")
    assert mask_text(text, "GB", spans=[(start, start + len("pregnant"))]) == f"I think I'm {HIDDEN}"


def test_a_handoff_contact_is_masked_whatever_it_is() -> None:
    assert "900123" not in mask_contact("+447700900123")
    assert mask_contact("bo@example.com") == "b•••@e•••.com"
    assert mask_contact("via this chat only") == "via this chat only"


@given(st.from_regex(r"07[0-9]{3} ?[0-9]{6}", fullmatch=True), st.text(alphabet="abc .,!?", max_size=20))
def test_no_uk_mobile_survives_masking(number: str, around: str) -> None:
    masked = mask_text(f"{around} {number} {around}", "GB")
    assert number.replace(" ", "")[-6:] not in re.sub(r"\s", "", masked)


@given(st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,8})?@[a-z]{2,10}\.(com|org|co\.uk)", fullmatch=True))
def test_no_email_survives_masking(address: str) -> None:
    masked = mask_text(f"write to {address} please", "GB")
    domain = address.split("@")[1]
    assert masked == f"write to {mask_email(address)} please"
    assert set(masked.split("@")[0].removeprefix("write to ")[1:]) == {"•"}  # only the first letter shows
    assert domain not in masked
