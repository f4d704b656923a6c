"""Start, watch and stop the assistant's processes: action server, Rasa server, delivery worker
and the staff console.

`make run` (tools/run.py) and the HTTP and browser tests use the same class, so the tests
exercise the processes exactly as a clinic runs them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
ANY_INTERFACE = ("0.0.0.0", "::", "")
VENV_BIN = Path(sys.executable).parent


class StartupError(RuntimeError):
    """A server could not start; the message says what to do about it."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (for tests that must not clash with `make run`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class ServerProcess:
    """One child process with the URL that says it is ready."""

    name: str
    command: list[str]
    ready_url: str | None  # None: ready once started
    env: dict
    log: int | IO[bytes] | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log is not None else None,
            start_new_session=True,  # so stop() reaches the whole process group
        )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace_seconds: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class AssistantServers:
    """The action server and the Rasa server (HTTP API, REST, socket.io and the chat page)."""

    model: Path
    endpoints: Path = PROJECT_ROOT / "endpoints.yml"
    credentials: Path = PROJECT_ROOT / "credentials.yml"
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    console_port: int = 5006
    auth_token: str | None = None
    log: int | IO[bytes] | None = None
    extra_env: dict = field(default_factory=dict)
    with_console: bool = True  # a cluster runs one console for all its Rasa servers

    def __post_init__(self) -> None:
        # Internal calls and readiness checks go over loopback, whatever interface is served.
        local = LOOPBACK if self.host in ANY_INTERFACE else self.host
        env = {**os.environ, "HOST": self.host, "PYTHONPATH": str(PROJECT_ROOT), **self.extra_env}
        # The console finds the Rasa server, its API token and the tracker store from these.
        env.update(
            CONSOLE_PORT=str(self.console_port),
            RASA_URL=f"http://{local}:{self.rasa_port}",
            RASA_ENDPOINTS=str(self.endpoints),
        )
        if self.auth_token:
            env["RASA_TOKEN"] = self.auth_token
        self.env = env
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        rasa = str(VENV_BIN / "rasa")
        rasa_command = [
            rasa, "run",
            "--model", str(self.model),
            "--enable-api",
            "--interface", self.host,
            "--port", str(self.rasa_port),
            "--endpoints", str(self.endpoints),
            "--credentials", str(self.credentials),
        ]  # fmt: skip
        if self.auth_token:
            rasa_command += ["--auth-token", self.auth_token]
        base = f"http://{local}:"
        # The action server writes bookings and sends them signed, and has no authentication of
        # its own: it only ever listens on loopback (rasa-sdk binds to SANIC_HOST).
        self.action_server = ServerProcess(
            "action server",
            [rasa, "run", "actions", "--port", str(self.action_port), "--actions", "actions"],
            f"http://{LOOPBACK}:{self.action_port}/health",
            {**env, "SANIC_HOST": LOOPBACK},
            self.log,
        )
        self.rasa_server = ServerProcess("Rasa server", rasa_command, f"{base}{self.rasa_port}/", env, self.log)
        self.delivery_worker = ServerProcess(
            "delivery worker", [sys.executable, "-m", "actions.delivery"], None, env, self.log
        )

        self.console = ServerProcess(
            "staff console", [sys.executable, "-m", "console"], f"{base}{self.console_port}/health", env, self.log
        )

    @property
    def processes(self) -> tuple[ServerProcess, ...]:
        assistant = (self.action_server, self.rasa_server, self.delivery_worker)
        return (*assistant, self.console) if self.with_console else assistant

    def migrate(self) -> None:
        """Brings the records database (DATABASE_URL) to the newest schema."""
        result = subprocess.run(
            [str(VENV_BIN / "alembic"), "upgrade", "head"],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StartupError(f"Could not prepare the records database (DATABASE_URL): {result.stderr.strip()[-800:]}")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    def check_ports(self) -> None:
        for server, port, hint in (
            (self.rasa_server, self.rasa_port, "RASA_PORT=5006"),
            (self.action_server, self.action_port, "the port in endpoints.yml"),
            (self.console, self.console_port, "CONSOLE_PORT=5007"),
        ):
            if not port_is_free(self.host, port):
                raise StartupError(
                    f"Port {port} for the {server.name} is already in use, probably by an assistant "
                    f"that is still running. Stop it (Ctrl-C in its terminal) or change {hint}."
                )

    def start(self, timeout_seconds: float = 180.0) -> None:
        self.check_ports()
        self.migrate()
        for server in self.processes:
            server.start()
        self.wait_until_ready(timeout_seconds)

    def wait_until_ready(self, timeout_seconds: float) -> None:
        try:
            wait_until_ready(self.processes, timeout_seconds)
        except StartupError:
            self.stop()
            raise

    def stop(self) -> None:
        for server in reversed(self.processes):
            server.stop()


def wait_until_ready(processes: tuple[ServerProcess, ...], timeout_seconds: float) -> None:
    """Returns once every process answers its ready URL; raises if one exits or time runs out."""
    deadline = time.monotonic() + timeout_seconds
    pending = list(processes)
    while pending:
        for server in list(pending):
            code = server.exited()
            if code is not None:
                raise StartupError(f"The {server.name} stopped while starting (exit code {code}); see its log above.")
            if server.ready_url is None or answers(server.ready_url):
                pending.remove(server)
        if pending and time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise StartupError(f"Timed out after {timeout_seconds:.0f}s waiting for: {names}.")
        if pending:
            time.sleep(0.2)
