"""Booking details: phone, email and preferred times read the way visitors write them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.booking.validation import Invalid, clean_text, parse_email, parse_name, parse_phone, parse_window
from actions.clinic_config import DEFAULT_PATH, load_clinic_config

CLINIC = load_clinic_config(DEFAULT_PATH)
LONDON = ZoneInfo("Europe/London")
FRIDAY_NIGHT = datetime(2026, 11, 20, 22, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "e164"),
    [("07400 123456", "+447400123456"), ("+44 7400 123456", "+447400123456"), ("020 7946 0000", "+442079460000"),
     ("+1 415 555 2671", "+14155552671")],
)  # fmt: skip
def test_phone_numbers_become_e164_in_the_clinics_country(text: str, e164: str) -> None:
    assert parse_phone(text, CLINIC) == e164


@pytest.mark.parametrize("text", ["12345", "call me", "", "0740012345678901"])
def test_bad_phone_numbers_get_an_example(text: str) -> None:
    with pytest.raises(Invalid, match=r"e\.g\. \+44"):
        parse_phone(text, CLINIC)


def test_emails_are_checked_and_normalised() -> None:
    assert parse_email(" Maria.Lopez@Example.COM ") == "Maria.Lopez@example.com"
    with pytest.raises(Invalid):
        parse_email("maria@")


def test_names_need_letters_and_lose_markup() -> None:
    assert parse_name("  <b>Maria</b>   Lopez ") == "Maria Lopez"
    with pytest.raises(Invalid):
        parse_name("12345")


def test_long_text_is_cut_and_cleaned() -> None:
    assert clean_text("a\x00b <script>x</script> " + "y" * 1000, 50).endswith("…")
    assert len(clean_text("z" * 10_000, 500)) == 500


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("next tuesday afternoon", "Tuesday 24 November, between 12:00 and 17:00"),
        ("any weekday after 5", "Monday 23 November, between 17:00 and 18:00"),
        ("tomorrow morning", "Saturday 21 November, between 10:00 and 12:00"),
        ("monday 3pm", "Monday 23 November, between 15:00 and 16:00"),
        ("wednesday evening", "Wednesday 25 November, between 17:00 and 20:00"),
        ("12/01/2027", "Tuesday 12 January, between 09:00 and 18:00"),
    ],
)
def test_free_text_times_become_a_window_inside_opening_hours(text: str, spoken: str) -> None:
    window = parse_window(text, CLINIC, FRIDAY_NIGHT)
    assert window.spoken() == spoken
    assert window.start > FRIDAY_NIGHT and window.start.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "explanation"),
    [
        ("sunday", "closed on Sundays"),
        ("yesterday", "already passed"),
        ("saturday at 4pm", "outside our opening hours"),
        ("in 6 months", "90 days ahead"),
        ("lol idk", "couldn't work out the day"),
    ],
)
def test_impossible_times_are_explained(text: str, explanation: str) -> None:
    with pytest.raises(Invalid, match=explanation):
        parse_window(text, CLINIC, FRIDAY_NIGHT)


def test_reply_time_follows_opening_hours() -> None:
    assert "tomorrow from 10:00" in CLINIC.reply_time_text(FRIDAY_NIGHT)
    assert "open now" in CLINIC.reply_time_text(datetime(2026, 11, 23, 10, 0, tzinfo=LONDON))
