"""`make run`: check the set-up, start the servers and the delivery worker, stop on Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import yaml

from actions.clinic_config import ClinicConfig, ClinicConfigError, load_clinic_config
from channels.whatsapp.settings import missing_settings
from tools.model import model_path
from tools.servers import PROJECT_ROOT, AssistantServers, ServerProcess, StartupError


def action_port_from_endpoints() -> int:
    """The action server listens where endpoints.yml tells Rasa to find it."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    url = urlparse(endpoints["action_endpoint"]["url"])
    return url.port or 80


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SIGNED_WEBHOOKS = {"BOOKING_WEBHOOK_URL": "BOOKING_WEBHOOK_SECRET", "STAFF_WEBHOOK_URL": "STAFF_WEBHOOK_SECRET"}


def exposure_problems(host: str, environ: dict[str, str]) -> list[str]:
    """Why this configuration must not start: an API open to the network, or unsigned webhooks."""
    problems = []
    missing = [name for name in ("RASA_TOKEN", "STAFF_TOKEN") if not environ.get(name)]
    if host not in LOOPBACK_HOSTS and missing:
        problems.append(
            f"HOST={host} serves other machines, and without {' and '.join(missing)} anyone who can reach "
            "it could read every transcript and change conversations through the HTTP and staff APIs. "
            f"Set {' and '.join(missing)} to long random values (e.g. `openssl rand -hex 32`), or leave HOST unset "
            "to serve this machine only."
        )
    for url, secret in SIGNED_WEBHOOKS.items():
        if environ.get(url, "").strip() and not environ.get(secret):
            problems.append(
                f"{url} is set but {secret} is not: the receiver could not tell our requests from forged ones. "
                f"Set {secret} to the secret the receiver checks."
            )
    return problems


def checked_setup(host: str) -> tuple[ClinicConfig, Path]:
    """The clinic's settings and the model, once everything that can be checked before starting
    is right; otherwise StartupError with the fix in its message."""
    if problems := exposure_problems(host, dict(os.environ)):
        raise StartupError("\n".join(problems))
    try:
        clinic = load_clinic_config()
    except ClinicConfigError as error:
        raise StartupError(f"clinic.yml: {error}") from None
    model = model_path()
    if not model.exists():
        raise StartupError(f"No trained model for the current data ({model.name}). Run `make train` first.")
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    return clinic, model


def preflight() -> AssistantServers:
    host = os.environ.get("HOST", "127.0.0.1")
    clinic, model = checked_setup(host)
    # The console talks to the Rasa server's staff API; without a token of the clinic's own,
    # this run gets a random one (the API stays closed to everybody else).
    staff_token = os.environ.get("STAFF_TOKEN") or secrets.token_urlsafe(24)
    servers = AssistantServers(
        model=model,
        host=host,
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=action_port_from_endpoints(),
        console_port=int(os.environ.get("CONSOLE_PORT", "5006")),
        auth_token=os.environ.get("RASA_TOKEN") or None,
        extra_env={"STAFF_TOKEN": staff_token},
    )
    servers.check_ports()
    print(f"Starting the assistant for {clinic.name} with model {model.name} …", flush=True)
    return servers


def whatsapp_status(host: str, port: int) -> str:
    """On, with the URL to give Meta, or off with what is missing (channels/whatsapp/settings.py)."""
    missing = missing_settings()
    if missing:
        return f"off (set {', '.join(missing)} to turn it on)"
    return (
        f"on, Meta's webhook URL is https://<your public host>/webhooks/whatsapp/webhook (here: http://{host}:{port})"
    )


class ProcessGroup(Protocol):
    processes: tuple[ServerProcess, ...]

    def stop(self) -> None: ...


def supervise(group: ProcessGroup, restart: bool = False) -> int:
    """Runs until Ctrl-C (0). A process that dies stops everything (1: a half-working single
    assistant helps nobody), or, with `restart` (a cluster, where the others carry on), is
    started again."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stopping:
            for server in group.processes:
                code = server.exited()
                if code is not None and restart:
                    print(f"The {server.name} stopped (exit code {code}); starting it again.", file=sys.stderr)
                    server.start()
                elif code is not None:
                    print(f"\nThe {server.name} stopped (exit code {code}); stopping the others.", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        print("\nStopping …", flush=True)
        return 0
    finally:
        group.stop()


def main() -> int:
    try:
        servers = preflight()
        started = time.monotonic()
        servers.start()
    except StartupError as error:
        print(f"\nCannot start: {error}", file=sys.stderr)
        return 1
    host = "localhost" if servers.host in ("127.0.0.1", "0.0.0.0") else servers.host
    print(
        f"\nReady in {time.monotonic() - started:.0f}s.\n"
        f"  Web chat:   http://{host}:{servers.rasa_port}/chat/\n"
        f"  REST:       POST http://{host}:{servers.rasa_port}/webhooks/rest/webhook\n"
        f"  HTTP API:   http://{host}:{servers.rasa_port}/status"
        f"{' (token required)' if servers.auth_token else ''}\n"
        f"  WhatsApp:   {whatsapp_status(host, servers.rasa_port)}\n"
        f"  Staff:      http://{host}:{servers.console_port}/ (make an account: make staff-user NAME=… ROLE=admin)\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    return supervise(servers)


if __name__ == "__main__":
    raise SystemExit(main())
