"""clinic.yml: the clinic's facts load, and every mistake a clinic can make is explained."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from actions.clinic_config import DEFAULT_PATH, ClinicConfigError, ClinicFacts, Retention, load_clinic_config


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.yml"
    shutil.copy(DEFAULT_PATH, path)
    return path


def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_repository_clinic_file_is_valid() -> None:
    config = load_clinic_config(DEFAULT_PATH)
    assert config.name and config.phone and config.booking_link.startswith("https://")
    assert set(config.opening_hours) == {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


def test_hours_group_consecutive_days_with_same_hours(clinic_file: Path) -> None:
    hours = {day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    edit(clinic_file, opening_hours={**hours, "saturday": "closed", "sunday": "closed"})
    assert load_clinic_config(clinic_file).hours_text() == "Monday–Friday: 09:00–17:00\nSaturday–Sunday: closed"


def test_prices_are_listed_with_currency_symbol(clinic_file: Path) -> None:
    edit(clinic_file, currency="EUR", prices=[{"item": "Full face", "price": 1250, "note": "one session"}])
    assert load_clinic_config(clinic_file).price_text() == "• Full face: €1,250 (one session)"


@pytest.mark.parametrize(
    ("changes", "named_key"),
    [
        ({"phone": None}, "'phone'"),
        ({"name": "  "}, "'name'"),
        ({"timezone": "London"}, "'timezone'"),
        ({"booking_link": "www.example.com"}, "'booking_link'"),
        ({"languages": "English"}, "'languages'"),
        ({"prices": []}, "'prices'"),
        ({"prices": [{"item": "Face", "price": "cheap"}]}, "'prices[1].price'"),
        ({"opening_hours": {"monday": "9-6"}}, "'opening_hours.monday'"),
        ({"retention": 180}, "'retention'"),
        ({"retention": {"transcript_days": 180}}, "'retention'"),
        ({"retention": {"transcripts_days": "six months"}}, "'retention.transcripts_days'"),
        ({"retention": {"transcripts_days": 0}}, "'retention.transcripts_days'"),
        ({"retention": {"transcripts_days": True}}, "'retention.transcripts_days'"),
        ({"retention": {"transcripts_days": 365, "bookings_days": 90}}, "'retention.bookings_days'"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(clinic_file: Path, changes: dict, named_key: str) -> None:
    edit(clinic_file, **changes)
    with pytest.raises(ClinicConfigError) as raised:
        load_clinic_config(clinic_file)
    assert named_key in str(raised.value)
    assert "Fix it in clinic.yml" in str(raised.value)


def test_retention_is_read_and_defaults_when_left_out(clinic_file: Path) -> None:
    edit(clinic_file, retention={"transcripts_days": 30})
    assert load_clinic_config(clinic_file).retention == Retention(transcripts_days=30, bookings_days=730)
    edit(clinic_file, retention=None)
    assert load_clinic_config(clinic_file).retention == Retention(180, 730)


def test_closing_before_opening_is_rejected(clinic_file: Path) -> None:
    data = yaml.safe_load(clinic_file.read_text())
    data["opening_hours"]["friday"] = "18:00-09:00"
    clinic_file.write_text(yaml.safe_dump(data))
    with pytest.raises(ClinicConfigError, match=r"opening_hours\.friday"):
        load_clinic_config(clinic_file)


def test_missing_file_and_broken_yaml_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ClinicConfigError, match="does not exist"):
        load_clinic_config(tmp_path / "nope.yml")
    broken = tmp_path / "clinic.yml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ClinicConfigError, match="not valid YAML"):
        load_clinic_config(broken)


def test_facts_follow_edits_and_survive_a_broken_save(clinic_file: Path) -> None:
    facts = ClinicFacts(clinic_file)
    assert facts.current().phone == "+44 20 7946 0321"

    edit(clinic_file, phone="+44 20 7946 0999")
    os.utime(clinic_file, ns=(1, 10**18))  # a different mtime even on coarse file systems
    assert facts.current().phone == "+44 20 7946 0999"

    clinic_file.write_text("phone: [broken\n")
    assert facts.current().phone == "+44 20 7946 0999"
    assert facts.last_error is not None
