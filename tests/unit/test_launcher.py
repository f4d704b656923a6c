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


def test_serving_other_machines_without_both_tokens_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RASA_TOKEN", "STAFF_TOKEN", "BOOKING_WEBHOOK_URL", "STAFF_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOST", "0.0.0.0")
    with pytest.raises(StartupError, match=r"HOST=0\.0\.0\.0 .*without RASA_TOKEN and STAFF_TOKEN.*leave HOST unset"):
        tools.run.preflight()
    monkeypatch.setenv("RASA_TOKEN", "a-long-random-value")
    with pytest.raises(StartupError, match=r"without STAFF_TOKEN anyone"):
        tools.run.preflight()
    assert tools.run.exposure_problems("0.0.0.0", {"RASA_TOKEN": "x", "STAFF_TOKEN": "y"}) == []
    assert tools.run.exposure_problems("127.0.0.1", {}) == []  # this machine only: no tokens needed


def test_a_webhook_without_its_secret_is_refused() -> None:
    problems = tools.run.exposure_problems("127.0.0.1", {"BOOKING_WEBHOOK_URL": "https://clinic.example/hook"})
    assert len(problems) == 1 and "BOOKING_WEBHOOK_SECRET is not" in problems[0]
    signed = {"STAFF_WEBHOOK_URL": "https://clinic.example/staff", "STAFF_WEBHOOK_SECRET": "s3cret"}
    assert tools.run.exposure_problems("127.0.0.1", signed) == []


def test_the_action_server_listens_on_loopback_whatever_host_is_served(tmp_path: Path) -> None:
    servers = AssistantServers(model=tmp_path / "model.tar.gz", host="0.0.0.0")
    assert servers.action_server.env["SANIC_HOST"] == "127.0.0.1"
    assert servers.action_server.ready_url.startswith("http://127.0.0.1:")
    assert servers.env["RASA_URL"].startswith("http://127.0.0.1:")  # the console calls Rasa over loopback
