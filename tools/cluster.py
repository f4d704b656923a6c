"""Several Rasa servers behind HAProxy, on PostgreSQL and Redis: Rasa's own scale-out design.

    visitors ──► HAProxy (HOST:5005) ──► Rasa server 1 ─► action server 1 ─┐
                 health checks,      └─► Rasa server 2 ─► action server 2 ─┤
                 sticky socket.io        …                                 ├─► PostgreSQL: tracker store
                                                                           │   and records (bookings, outbox)
    staff ─────► console (HOST:5006) ─► HAProxy                            └─► Redis: conversation locks,
                 delivery worker 1, 2, … (claim outbox rows; never send one twice)  socket.io rooms

Every Rasa server can answer any conversation: the tracker is in PostgreSQL, and the Redis lock
store (channels/lock_store.py) makes two messages of one conversation that reach two servers
run one after the other, in order. A web chat's socket.io connection must keep talking to the
server that opened it (engine.io's long-polling session lives in that process), so HAProxy pins
it with a cookie; socket.io's Redis manager lets any server reach any connection (staff replies).
If a server dies, HAProxy's health check takes it out within a second or two, retries a request
that found it gone on another server, and the page reconnects to a live one and carries on the
same conversation.

`make run-cluster` starts one (`python -m tools.cluster`); the tests and `make bench` use the class.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from actions.tracker_store import create_events_table
from channels.web_sessions import webchat_secret
from tools.run import checked_setup, supervise
from tools.servers import (
    LOOPBACK,
    PROJECT_ROOT,
    VENV_BIN,
    AssistantServers,
    ServerProcess,
    StartupError,
    port_is_free,
    wait_until_ready,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
# How often HAProxy asks each server; two misses take it out. A dead server refuses at once; a
# busy one may take seconds to answer (its turns are CPU work on one event loop) and is not
# taken out for that (`timeout check`).
HEALTH_CHECK_MS = 500


@dataclass
class ClusterSettings:
    """Where the cluster listens and what it shares; `from_environment` reads `make run-cluster`'s."""

    model: Path
    servers: int = 2
    host: str = LOOPBACK
    port: int = 5005  # the load balancer: where `make run` serves
    console_port: int = 5006
    rasa_ports: list[int] = field(default_factory=list)  # default 5010, 5011, …
    action_ports: list[int] = field(default_factory=list)  # default 5060, 5061, …
    database_url: str = f"{POSTGRES}/clinic_records"
    tracker_url: str = f"{POSTGRES}/clinic_tracker"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "clinic"  # keys and the socket.io channel: one Redis can serve several clusters
    work: Path = PROJECT_ROOT / "var" / "cluster"
    auth_token: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rasa_ports = self.rasa_ports or [5010 + number for number in range(self.servers)]
        self.action_ports = self.action_ports or [5060 + number for number in range(self.servers)]

    @classmethod
    def from_environment(cls, model: Path) -> ClusterSettings:
        return cls(
            model=model,
            servers=int(os.environ.get("SERVERS", "2")),
            host=os.environ.get("HOST", LOOPBACK),
            port=int(os.environ.get("RASA_PORT", "5005")),
            console_port=int(os.environ.get("CONSOLE_PORT", "5006")),
            database_url=os.environ.get("DATABASE_URL", cls.database_url),
            tracker_url=os.environ.get("TRACKER_DATABASE_URL", cls.tracker_url),
            redis_url=os.environ.get("REDIS_URL", cls.redis_url),
            auth_token=os.environ.get("RASA_TOKEN") or None,
        )


class Cluster:
    """The processes of a cluster; `start()` prepares the databases, starts them all and waits."""

    def __init__(self, settings: ClusterSettings, log: int | IO[bytes] | None = None) -> None:
        self.settings = settings
        settings.work.mkdir(parents=True, exist_ok=True)
        shared = {
            "DATABASE_URL": settings.database_url,
            "TRACKER_DATABASE_URL": settings.tracker_url,
            "SOCKETIO_REDIS_URL": settings.redis_url,
            "SOCKETIO_REDIS_CHANNEL": f"{settings.redis_prefix}-socketio",
            "WEBCHAT_SECRET": webchat_secret(),  # ids one server issues, every server accepts
            # The console calls the staff API through the load balancer; without a token of the
            # clinic's own, this run gets a random one (as with `make run`).
            "STAFF_TOKEN": os.environ.get("STAFF_TOKEN") or secrets.token_urlsafe(24),
            "TRUSTED_PROXIES": "1",  # HAProxy: the visitor's address is in X-Forwarded-For (rate limits)
            **settings.extra_env,
        }
        self.nodes = [
            AssistantServers(
                model=settings.model,
                endpoints=self._write_endpoints(number, action_port),
                host=LOOPBACK,
                rasa_port=rasa_port,
                action_port=action_port,
                console_port=settings.console_port,
                auth_token=settings.auth_token,
                log=log,
                extra_env=shared,
                with_console=False,
            )
            for number, (rasa_port, action_port) in enumerate(
                zip(settings.rasa_ports, settings.action_ports, strict=True)
            )
        ]
        env = {**self.nodes[0].env, "HOST": settings.host, "RASA_URL": f"http://{LOOPBACK}:{settings.port}"}
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.load_balancer = ServerProcess(
            "load balancer",
            [haproxy, "-db", "-f", str(self._write_haproxy_config())],
            f"http://{LOOPBACK}:{settings.port}/",
            env,
            log,
        )
        self.console = ServerProcess(
            "staff console",
            [str(VENV_BIN / "python"), "-m", "console"],
            f"http://{LOOPBACK}:{settings.console_port}/health",
            env,
            log,
        )

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def processes(self) -> tuple[ServerProcess, ...]:
        assistants = tuple(process for node in self.nodes for process in node.processes)
        return (*assistants, self.load_balancer, self.console)

    def check_ports(self) -> None:
        wanted = [
            (self.settings.port, "the load balancer", "RASA_PORT"),
            (self.settings.console_port, "the console", "CONSOLE_PORT"),
        ]
        wanted += [(port, "a Rasa server", "") for port in self.settings.rasa_ports]
        wanted += [(port, "an action server", "") for port in self.settings.action_ports]
        for port, name, setting in wanted:
            if not port_is_free(self.settings.host if setting else LOOPBACK, port):
                change = f" or set {setting}" if setting else ""
                raise StartupError(f"Port {port} for {name} is in use: stop what runs there (`make run`?){change}.")

    def start(self, timeout_seconds: float = 240.0) -> None:
        if shutil.which("haproxy") is None:
            raise StartupError("HAProxy is not installed: run `make haproxy` (Debian's package).")
        self.check_ports()
        for url in (self.settings.database_url, self.settings.tracker_url):
            create_database(url)
        create_events_table(self.settings.tracker_url)
        self.nodes[0].migrate()
        for process in self.processes:
            process.start()
        try:
            wait_until_ready(self.processes, timeout_seconds)
        except StartupError:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def _write_endpoints(self, number: int, action_port: int) -> Path:
        tracker = make_url(self.settings.tracker_url)
        redis = urlparse(self.settings.redis_url)
        lines = [
            "# Written by tools/cluster.py for one Rasa server of the cluster.",
            "action_endpoint:",
            f"  url: http://{LOOPBACK}:{action_port}/webhook",
            "tracker_store:",
            "  type: SQL",
            f"  dialect: {tracker.get_backend_name()}",
            f"  url: {tracker.host or LOOPBACK}",
            f"  port: {tracker.port or 5432}",
            f"  db: {tracker.database}",
            f"  username: {tracker.username or 'postgres'}",
        ]
        if tracker.password:
            lines.append(f"  password: {tracker.password}")
        lines += [
            "lock_store:",
            "  type: channels.lock_store.OrderedRedisLockStore",
            f"  url: {redis.hostname or LOOPBACK}",
            f"  port: {redis.port or 6379}",
            f"  db: {(redis.path or '/0').strip('/') or 0}",
            f"  key_prefix: {self.settings.redis_prefix}",
        ]
        if redis.password:
            lines.append(f"  password: {redis.password}")
        path = self.settings.work / f"endpoints-{number + 1}.yml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _write_haproxy_config(self) -> Path:
        servers = "\n".join(
            f"    server rasa{number} {LOOPBACK}:{port} check cookie rasa{number}"
            for number, port in enumerate(self.settings.rasa_ports, start=1)
        )
        path = self.settings.work / "haproxy.cfg"
        path.write_text(HAPROXY_CONFIG.format(bind=f"{self.settings.host}:{self.settings.port}", servers=servers))
        return path


# A request whose server refused it or died before answering is retried on another server
# (a named message then runs once: channels/once_only.py). A slow answer is never retried.
# socket.io's long-polling needs every request of a session on one server: the cookie pins it.
HAPROXY_CONFIG = f"""# Written by tools/cluster.py.
global
    maxconn 4096

defaults
    mode http
    option http-buffer-request
    option forwardfor
    timeout connect 2s
    timeout client 65s
    timeout server 65s
    timeout http-request 10s
    timeout check 5s
    retries 2
    retry-on conn-failure empty-response
    option redispatch 1

frontend assistant
    bind {{bind}}
    default_backend rasa_servers

backend rasa_servers
    balance roundrobin
    option httpchk GET /
    http-check expect status 200
    cookie RASA_SERVER insert indirect nocache httponly
    default-server inter {HEALTH_CHECK_MS} fall 2 rise 2
{{servers}}
"""


def create_database(url: str) -> None:
    """Creates a PostgreSQL database the first time (SQLite files create themselves)."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    connection = admin_connection(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))
    except psycopg2.Error as error:
        raise StartupError(f"Cannot prepare PostgreSQL database {target.database!r}: {error}".strip()) from None
    finally:
        connection.close()


def drop_database(url: str) -> None:
    """For tests: removes a database `create_database` made."""
    target = make_url(url)
    connection = admin_connection(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.database)))
    connection.close()


def admin_connection(url: str) -> psycopg2.extensions.connection:
    """A connection to the server's `postgres` database, to create or drop `url`'s."""
    target = make_url(url).set(drivername="postgresql", database="postgres")
    return psycopg2.connect(target.render_as_string(hide_password=False))


def main() -> int:
    """`make run-cluster`: start a cluster, print where everything is, supervise until Ctrl-C."""
    host = os.environ.get("HOST", LOOPBACK)
    try:
        clinic, model = checked_setup(host)
        settings = ClusterSettings.from_environment(model)
        print(f"Starting {settings.servers} Rasa servers for {clinic.name} behind HAProxy …", flush=True)
        cluster = Cluster(settings)
        started = time.monotonic()
        cluster.start()
    except StartupError as error:
        print(f"\nCannot start: {error}", file=sys.stderr)
        return 1
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    backends = ", ".join(str(port) for port in settings.rasa_ports)
    print(
        f"\nReady in {time.monotonic() - started:.0f}s.\n"
        f"  Web chat:   http://{shown}:{settings.port}/chat/   (HAProxy → Rasa servers on {backends})\n"
        f"  REST:       POST http://{shown}:{settings.port}/webhooks/rest/webhook\n"
        f"  Staff:      http://{shown}:{settings.console_port}/\n"
        f"  Stores:     {make_url(settings.tracker_url).render_as_string()} (transcripts), "
        f"{make_url(settings.database_url).render_as_string()} (records), {settings.redis_url} (locks)\n"
        f"  Logs:       the servers' output below; config in {settings.work.relative_to(PROJECT_ROOT)}/\n"
        "A server that stops is started again. Press Ctrl-C to stop.",
        flush=True,
    )
    return supervise(cluster, restart=True)


if __name__ == "__main__":
    raise SystemExit(main())
