"""`make run` refuses to start with a clear message, not a traceback, when something is off."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import tools.run
from tools.servers import AssistantServers, StartupError


def test_broken_clinic_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "clinic.yml"
    broken.write_text("name: Clinic\n")
    monkeypatch.setenv("CLINIC_CONFIG", str(broken))
    with pytest.raises(StartupError, match=r"clinic\.yml: .*'phone'"):
        tools.run.preflight()


def test_missing_model_says_to_train(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tools.run, "model_path", lambda: tmp_path / "clinic-000000000000.tar.gz")
    with pytest.raises(StartupError, match="Run `make train`"):
        tools.run.preflight()


def test_port_in_use_is_reported_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        servers = AssistantServers(model=tmp_path / "model.tar.gz", rasa_port=port, action_port=port + 1)
        with pytest.raises(StartupError, match=f"Port {port} .* already in use.*RASA_PORT"):
            servers.check_ports()


def test_action_port_follows_endpoints_yml() -> None:
    assert tools.run.action_port_from_endpoints() == 5055


def test_make_run_says_whether_whatsapp_is_on_and_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"):
        monkeypatch.setenv(name, "set")
    assert tools.run.whatsapp_status("localhost", 5005).startswith("on")
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    assert tools.run.whatsapp_status("localhost", 5005) == "off (set WHATSAPP_APP_SECRET to turn it on)"
