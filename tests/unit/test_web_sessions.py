"""Web chat session ids: only the ones a server with the same secret issued are accepted."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.web_sessions import SESSION_ID, SessionIds, webchat_secret

IDS = SessionIds("test-secret")


def test_issued_ids_are_well_formed_distinct_and_accepted() -> None:
    issued = {IDS.issue() for _ in range(2000)}
    assert len(issued) == 2000
    assert all(SESSION_ID.fullmatch(i) and IDS.issued(i) for i in issued)


def test_another_server_with_the_same_secret_accepts_them_and_one_with_another_does_not() -> None:
    session_id = IDS.issue()
    assert SessionIds("test-secret").issued(session_id), "a restart, or a second Rasa server"
    assert not SessionIds("another-secret").issued(session_id)


def test_changing_any_character_makes_it_unknown() -> None:
    session_id = IDS.issue()
    for at, char in enumerate(session_id):
        if char == ".":
            continue
        other = "B" if char == "A" else "A"
        assert not IDS.issued(session_id[:at] + other + session_id[at + 1 :]), at


@pytest.mark.parametrize(
    "value", [None, 42, "", "let-me-in", "a.b", " " + IDS.issue(), IDS.issue() + "\n", IDS.issue() * 2, ["x"]]
)
def test_malformed_ids_are_refused(value: object) -> None:
    assert not IDS.issued(value)


@given(st.text(max_size=80))
def test_no_text_passes_without_the_signature(text: str) -> None:
    assert not IDS.issued(text)


def test_the_secret_comes_from_the_environment_else_from_a_file_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", "from-the-environment")
    assert webchat_secret(tmp_path / "webchat-secret") == "from-the-environment"

    monkeypatch.delenv("WEBCHAT_SECRET")
    secret_file = tmp_path / "var" / "webchat-secret"
    first = webchat_secret(secret_file)
    assert len(first) >= 40 and webchat_secret(secret_file) == first, "kept across restarts"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert [p.name for p in secret_file.parent.iterdir()] == ["webchat-secret"], "no draft left behind"
