"""`make bench`: the clinic assistant against stock Rasa 3.6, and one Rasa server against the cluster.

Why: two promises need numbers from one machine in one run, so that the machine's speed and
whatever else it is doing cancel out in the ratios. (1) The clinic's extras (its spaCy
pipeline and custom NLU components, an action-server call on most turns, the SQL tracker
store, rate limits, the reply guard) cost at most 1.5× stock Rasa's p95 latency at 1 and 10
visitors. (2) Two Rasa servers behind HAProxy answer at least 1.6× the messages one does,
where the cores allow it.

One run, in this order:
  1. stock Rasa: `rasa init --no-prompt` in a temporary directory (Rasa's moodbot, trained by
     init: that time is stock training), served by `rasa run --enable-api` (in-memory tracker);
  2. the clinic as `make run` starts it (action server, Rasa server on SQLite, delivery
     worker, staff console), then clusters of 1, 2 and 3 Rasa servers (tools/cluster.py)
     behind HAProxy, each on two fresh PostgreSQL databases and its own Redis key prefix;
  3. for each system: time to ready, closed-loop REST load at 1, 10 and 50 visitors
     (tools/bench_load.py), CPU time per message of each process, resident memory; then a pass
     of 10 visitors under py-spy (stock's and the clinic's Rasa server, the clinic's action
     server, the first cluster's first Rasa server); once stopped, per-message work read back
     from the tracker store (action-server calls; on PostgreSQL transactions, scans and rows);
  4. last, so it cannot disturb the load numbers, a full training of the clinic's model.

Everything listens on 127.0.0.1 on free ports (never 5005/5006: `make run` may be running),
every request has a timeout, and every process, temporary database and Redis key is removed
in `finally`, also on Ctrl-C. py-spy is installed into .venv on demand (PY_SPY).

Results: results/bench/REPORT.md, results.json, latency.png, throughput.png, logs/.
Run: `make bench`, or
    PYTHONPATH=. .venv/bin/python -m tools.bench [--quick] [--seconds 20] [--skip-training]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import psycopg2
import redis
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tools.bench_load import Level, LevelResult, Visits, answered_between, clinic_visits, moodbot_visits, run_level
from tools.cluster import HEALTH_CHECK_MS, POSTGRES, Cluster, ClusterSettings, drop_database
from tools.model import model_path
from tools.servers import (
    LOOPBACK,
    PROJECT_ROOT,
    VENV_BIN,
    AssistantServers,
    ServerProcess,
    StartupError,
    wait_until_ready,
)

RESULTS = PROJECT_ROOT / "results" / "bench"
LEVELS = (1, 10, 50)
CLUSTER_SIZES = (1, 2, 3)
PROFILED_VISITORS = 10
PROFILE_SECONDS = 10.0
PROFILE_RATE = 100  # samples a second
PY_SPY = "py-spy==0.4.2"
STARTUP_TIMEOUT_SECONDS = 900.0  # three Rasa servers loading TensorFlow on a busy 2-core machine
TRAINING_TIMEOUT_SECONDS = 3600.0
REDIS_URL = "redis://127.0.0.1:6379/0"
STATS_FLUSH_SECONDS = 1.0  # PostgreSQL backends flush their statistics as they exit
# As tests/support.py: the load comes from one address far faster than any person types, so
# the rate limiter (channels/rate_limit.py) would otherwise answer 429.
UNLIMITED = {
    f"RATE_LIMIT_{name}_{part}": value
    for name in ("CLIENT", "CONVERSATION", "LOGIN")
    for part, value in (("BURST", "1000000"), ("PER_MINUTE", "1000000"))
}
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}  # the same for both systems


# --- systems under test ---------------------------------------------------------------------------------


@dataclass
class System:
    """A running system: where visitors post, its processes by role, and what it can tell afterwards."""

    name: str
    url: str  # the REST channel's webhook
    ready_seconds: float
    processes: dict[str, ServerProcess]
    profiled: tuple[str, ...]  # roles to profile at PROFILED_VISITORS
    stop: Callable[[], None]
    work_counts: Callable[[], dict[str, Any]] = dict  # per-message work, read once stopped
    other_cpu: Callable[[], dict[str, float]] = dict  # CPU seconds of shared servers' parts that are its own


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every probe stays bound until all are chosen, so none comes twice."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [probe.getsockname()[1] for probe in probes]


def timed_start(start: Callable[[], None]) -> float:
    started = time.monotonic()
    start()
    return time.monotonic() - started


def init_stock_project(work: Path, log: IO[bytes]) -> float:
    """`rasa init --no-prompt`: writes Rasa's moodbot into `work` and trains it; returns the seconds."""
    work.mkdir(parents=True)
    env = {**os.environ, **QUIET, "RASA_CACHE_DIRECTORY": str(work / ".rasa-cache")}
    command = [str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(work)]
    started = time.monotonic()
    subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=1800)
    return time.monotonic() - started


@contextmanager
def stock_rasa(project: Path, log: IO[bytes]) -> Iterator[System]:
    """The moodbot as Rasa ships it: `rasa run --enable-api`, in-memory tracker and lock store."""
    (port,) = free_ports(1)
    command = [
        str(VENV_BIN / "rasa"), "run", "--enable-api",
        "--interface", LOOPBACK, "--port", str(port),
        "--model", str(project / "models"),
        "--endpoints", str(project / "endpoints.yml"),
        "--credentials", str(project / "credentials.yml"),
    ]  # fmt: skip
    server = ServerProcess("stock Rasa server", command, f"http://{LOOPBACK}:{port}/", {**os.environ, **QUIET}, log)
    try:
        ready = timed_start(lambda: start_and_wait({"Rasa server": server}))
        url = f"http://{LOOPBACK}:{port}/webhooks/rest/webhook"
        yield System("stock", url, ready, {"Rasa server": server}, ("Rasa server",), server.stop)
    finally:
        server.stop()


def start_and_wait(processes: dict[str, ServerProcess]) -> None:
    for process in processes.values():
        process.start()
    wait_until_ready(tuple(processes.values()), STARTUP_TIMEOUT_SECONDS)


def clinic_env(work: Path) -> dict[str, str]:
    """What every clinic process gets: its own clinic.yml copy, secrets, no rate limits."""
    clinic_file = work / "clinic.yml"
    shutil.copy(PROJECT_ROOT / "clinic.yml", clinic_file)
    return {
        "CLINIC_CONFIG": str(clinic_file),
        "STAFF_TOKEN": "bench-staff-token",
        "CONSOLE_SECRET": "bench-console-secret",
        "WEBCHAT_SECRET": "bench-webchat-secret",
        **QUIET,
        **UNLIMITED,
    }


@contextmanager
def clinic_single(model: Path, work: Path, log: IO[bytes]) -> Iterator[System]:
    """The clinic as `make run` starts it (as tests/support.py does), on SQLite in `work`."""
    work.mkdir(parents=True)
    rasa_port, action_port, console_port = free_ports(3)
    tracker_db = work / "tracker.db"
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://{LOOPBACK}:{action_port}/webhook\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n",
        encoding="utf-8",
    )
    servers = AssistantServers(
        model=model,
        endpoints=endpoints,
        rasa_port=rasa_port,
        action_port=action_port,
        console_port=console_port,
        log=log,
        extra_env={**clinic_env(work), "DATABASE_URL": f"sqlite:///{work / 'clinic.db'}"},
    )
    processes = {
        "Rasa server": servers.rasa_server,
        "action server": servers.action_server,
        "delivery worker": servers.delivery_worker,
        "staff console": servers.console,
    }
    tracker_url = f"sqlite:///{tracker_db}"
    try:
        ready = timed_start(lambda: servers.start(STARTUP_TIMEOUT_SECONDS))
        url = f"{servers.url}/webhooks/rest/webhook"
        profiled = ("Rasa server", "action server")
        yield System(
            "clinic-1", url, ready, processes, profiled, servers.stop, lambda: conversation_counts(tracker_url)
        )
    finally:
        servers.stop()


@contextmanager
def clinic_cluster(model: Path, size: int, work: Path, log: IO[bytes], profiled: bool = False) -> Iterator[System]:
    """A cluster of `size` Rasa servers behind HAProxy on fresh PostgreSQL databases; `profiled`:
    profile its first Rasa server, to see what PostgreSQL and Redis cost a turn."""
    work.mkdir(parents=True)
    ports = free_ports(2 + 2 * size)
    tag = f"bench_{os.getpid()}_{size}"
    settings = ClusterSettings(
        model=model,
        servers=size,
        port=ports[0],
        console_port=ports[1],
        rasa_ports=ports[2 : 2 + size],
        action_ports=ports[2 + size :],
        database_url=f"{POSTGRES}/{tag}_records",
        tracker_url=f"{POSTGRES}/{tag}_tracker",
        redis_url=REDIS_URL,
        redis_prefix=tag,
        work=work,
        extra_env=clinic_env(work),
    )
    cluster = Cluster(settings, log)
    processes = {"HAProxy": cluster.load_balancer, "staff console": cluster.console}
    for number, node in enumerate(cluster.nodes, start=1):
        processes[f"Rasa server {number}"] = node.rasa_server
        processes[f"action server {number}"] = node.action_server
        processes[f"delivery worker {number}"] = node.delivery_worker
    try:
        ready = timed_start(lambda: cluster.start(STARTUP_TIMEOUT_SECONDS))
        before = {url: postgres_counters(url) for url in (settings.tracker_url, settings.database_url)}
        yield System(
            f"cluster-{size}",
            f"{cluster.url}/webhooks/rest/webhook",
            ready,
            processes,
            ("Rasa server 1",) if profiled else (),
            cluster.stop,
            lambda: {**conversation_counts(settings.tracker_url), **database_work(settings, before)},
            lambda: {"PostgreSQL (its databases' backends)": postgres_cpu_seconds(settings)},
        )
    finally:
        cluster.stop()
        for url in (settings.tracker_url, settings.database_url):
            drop_database(url)
        delete_redis_keys(tag)


def delete_redis_keys(prefix: str) -> None:
    """The lock store's per-conversation counters live an hour; a benchmark's thousands go now."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- what each message costs, read back from the stores -----------------------------------------------


def custom_actions() -> set[str]:
    """The actions the action server runs (domain.yml `actions:`); the rest run inside Rasa."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return set(domain.get("actions") or [])


def conversation_counts(tracker_url: str) -> dict[str, Any]:
    """Visitor messages, and the actions and action-server calls per message, from the events table."""
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            messages = connection.execute(text("SELECT count(*) FROM events WHERE type_name = 'user'")).scalar()
            rows = connection.execute(
                text("SELECT action_name, count(*) FROM events WHERE type_name = 'action' GROUP BY action_name")
            ).all()
    finally:
        engine.dispose()
    actions = {name: number for name, number in rows}
    remote = {name: number for name, number in actions.items() if name in custom_actions()}
    per_message = max(messages, 1)
    return {
        "visitor messages": messages,
        "actions per message": sum(actions.values()) / per_message,
        "action-server calls per message": sum(remote.values()) / per_message,
        "action-server calls by action": dict(sorted(remote.items(), key=lambda item: -item[1])),
    }


def postgres_counters(url: str) -> dict[str, int]:
    """PostgreSQL's cumulative statistics for one database, and for Rasa's `events` table if it has one."""
    connection = psycopg2.connect(url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
            counters = {"transactions": cursor.fetchone()[0]}
            cursor.execute(
                "SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0), coalesce(seq_tup_read, 0)"
                " + coalesce(idx_tup_fetch, 0), n_tup_ins FROM pg_stat_user_tables WHERE relname = 'events'"
            )
            row = cursor.fetchone() or (0, 0, 0, 0)
    finally:
        connection.close()
    names = ("events sequential scans", "events index scans", "events rows read", "events rows inserted")
    return {**counters, **dict(zip(names, (int(value) for value in row), strict=True))}


def database_work(settings: ClusterSettings, before: dict[str, dict[str, int]]) -> dict[str, float]:
    """PostgreSQL work per visitor message during the load, once the cluster has stopped (its
    backends flush their statistics as they exit). The records database's numbers include the
    delivery workers' outbox polling, which does not depend on messages."""
    time.sleep(STATS_FLUSH_SECONDS)
    messages = max(conversation_counts(settings.tracker_url)["visitor messages"], 1)
    tracker = delta(postgres_counters(settings.tracker_url), before[settings.tracker_url])
    records = delta(postgres_counters(settings.database_url), before[settings.database_url])
    per_message = {f"{name} per message": value / messages for name, value in tracker.items()}
    per_message["tracker DB transactions per message"] = per_message.pop("transactions per message")
    per_message["records DB transactions per message"] = records["transactions"] / messages
    return per_message


def postgres_cpu_seconds(settings: ClusterSettings) -> float:
    """CPU of the PostgreSQL backends connected to the cluster's two databases (pooled, so long-lived)."""
    connection = psycopg2.connect(settings.tracker_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            names = [make_url(url).database for url in (settings.tracker_url, settings.database_url)]
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", (names,)
            )
            pids = [pid for (pid,) in cursor.fetchall()]
    finally:
        connection.close()
    return cpu_seconds(stat_fields(Path(f"/proc/{pid}")) for pid in pids)


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


# --- processes: memory and CPU ------------------------------------------------------------------------


def stat_fields(entry: Path) -> list[str]:
    """A process's /proc stat fields after its name (state, ppid, pgrp, …); none if it has ended."""
    try:
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(processes: Iterable[list[str]]) -> float:
    """User + system CPU seconds (stat fields 14 and 15) of processes still there."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in processes if fields)
    return ticks / os.sysconf("SC_CLK_TCK")


def group_members(process: ServerProcess) -> Iterator[tuple[Path, list[str]]]:
    """/proc entries and stat fields of every process in a server's process group (ServerProcess
    starts each in a session of its own, so this includes anything it forked)."""
    if process.process is None:
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(entry)) and int(fields[2]) == process.process.pid:
            yield entry, fields


def group_rss_mib(process: ServerProcess) -> float:
    total_kib = 0
    for entry, _ in group_members(process):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if match := re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE):
            total_kib += int(match.group(1))
    return total_kib / 1024


def group_cpu_seconds(process: ServerProcess) -> float:
    return cpu_seconds(fields for _, fields in group_members(process))


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (/proc/stat: all but idle and iowait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(system: System) -> dict[str, float]:
    snapshot = {role: group_cpu_seconds(process) for role, process in system.processes.items()}
    snapshot.update(system.other_cpu())
    times = os.times()
    snapshot["load generator (this process)"] = times.user + times.system
    return snapshot


# --- profiles -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A category and the frames that belong to it. py-spy writes a frame as `function (path:line)`,
    the path relative to site-packages, the standard library or the project; so "(rasa/nlu/"
    means any code under rasa/nlu, and "save (rasa/core/tracker_store" one function there."""

    category: str
    fragments: tuple[str, ...]

    def matches(self, frame: str) -> bool:
        return any(fragment in frame for fragment in self.fragments)


@dataclass(frozen=True)
class Categories:
    """`anywhere` rules claim a stack if any frame matches (a component's work, whoever called it);
    otherwise the innermost frame an `innermost` rule matches decides (the glue between them)."""

    anywhere: tuple[Rule, ...]
    innermost: tuple[Rule, ...]

    def of(self, stack: tuple[str, ...]) -> str:
        for rule in self.anywhere:
            if any(rule.matches(frame) for frame in stack):
                return rule.category
        for frame in reversed(stack):
            for rule in self.innermost:
                if rule.matches(frame):
                    return rule.category
        return "other"


TENSORFLOW = ("(tensorflow/", "(keras/", "(rasa/utils/tensorflow/")
SQL = ("(sqlalchemy/", "(psycopg2/", "(sqlite3/")
HTTP_AND_JSON = ("(sanic/", "(sanic_routing/", "(json/", "(socketio/", "(engineio/")
RASA_SERVER = Categories(
    anywhere=(
        Rule("dialogue policies (rules, memoization, TED)", ("(rasa/core/policies/", "(rasa/core/featurizers/")),
        Rule("NLU: DIET + ResponseSelector (TensorFlow)", ("(rasa/nlu/classifiers/diet", "(rasa/nlu/selectors/")),
        Rule("NLU: spaCy pipeline", ("(spacy/", "(thinc/", "(rasa/nlu/utils/spacy_utils", "(rasa/nlu/tokenizers/")),
        Rule("NLU: featurizers", ("(rasa/nlu/featurizers/", "(sklearn/", "(scipy/")),
        Rule("NLU: other components (Rasa's and nlp/)", ("(rasa/nlu/", "(nlp/")),
        Rule("TensorFlow, other", TENSORFLOW),
        Rule("tracker store: load", ("retrieve (rasa/core/tracker_store", "get_or_create_tracker (rasa/core/")),
        Rule("tracker store: save", ("save (rasa/core/tracker_store",)),
        Rule("tracker store: other", ("(rasa/core/tracker_store",)),
        Rule("lock store", ("(rasa/core/lock_store", "(channels/lock_store", "(redis/")),
        Rule("action-server calls (HTTP client)", ("(rasa/utils/endpoints", "(aiohttp/")),
        # Rasa 3.6's RemoteAction checks every action-server reply with jsonschema.validate(),
        # which first checks the (large) schema itself against its meta-schema, every time.
        Rule("action-server replies: JSON-schema validation", ("(jsonschema/",)),
        Rule("other database access", SQL),
        Rule("logging", ("(logging/",)),
    ),
    innermost=(
        Rule("dialogue bookkeeping (processor, actions, events, graph)", ("(rasa/",)),
        Rule("channels, Sanic, HTTP, JSON", ("(channels/", *HTTP_AND_JSON)),
    ),
)
ACTION_SERVER = Categories(
    anywhere=(
        Rule("records database (SQL)", SQL),
        Rule("the clinic's actions (actions/)", ("(actions/",)),
        Rule("logging", ("(logging/",)),
    ),
    innermost=(
        Rule("rasa_sdk: request, tracker and domain parsing", ("(rasa_sdk/",)),
        Rule("Sanic, HTTP, JSON", HTTP_AND_JSON),
    ),
)
# Where an event loop waits for work: uvloop's run_forever is native, so py-spy's innermost
# Python frame is Sanic's serve(); asyncio's own loop waits in select().
IDLE_FRAMES = ("serve (sanic/server/runners.py", "select (selectors.py", "_run_once (asyncio/base_events.py")


def read_collapsed(path: Path) -> Counter[tuple[str, ...]]:
    """py-spy's raw output: one `frame;frame;…;frame count` line per distinct stack, outermost first."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if stack and number.isdigit():
            stacks[tuple(stack.split(";"))] += int(number)
    return stacks


def is_idle(stack: tuple[str, ...]) -> bool:
    return stack[-1].startswith(IDLE_FRAMES)


def summarise_profile(path: Path, categories: Categories, seconds: float, messages: int) -> dict[str, Any]:
    """Shares of the busy samples by category, and the busy milliseconds each costs per message.
    Busy means the event loop was running Python, including time it waited for a core."""
    stacks = read_collapsed(path)
    total = sum(stacks.values())
    idle = sum(number for stack, number in stacks.items() if is_idle(stack))
    busy: Counter[str] = Counter()
    for stack, number in stacks.items():
        if not is_idle(stack):
            busy[categories.of(stack)] += number
    busy_total = max(sum(busy.values()), 1)
    ms_per_sample = seconds * 1000 / max(total, 1)
    per_message = max(messages, 1)
    return {
        "samples": total,
        "busy share": (total - idle) / max(total, 1),
        "messages": messages,
        "busy ms per message": busy_total * ms_per_sample / per_message,
        "categories": {
            name: {"share": number / busy_total, "ms per message": number * ms_per_sample / per_message}
            for name, number in busy.most_common()
        },
    }


def ensure_py_spy(log: IO[bytes]) -> Path | None:
    """py-spy from PyPI into .venv on first use (not a project requirement); None if it cannot be had."""
    binary = VENV_BIN / "py-spy"
    if not binary.exists():
        command = [str(VENV_BIN / "pip"), "install", "--quiet", PY_SPY]
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False)
    return binary if binary.exists() else None


@dataclass
class Recorder:
    """One py-spy run on one process group's leader, for a fixed time."""

    role: str
    output: Path
    seconds: float
    process: subprocess.Popen

    @classmethod
    def start(cls, py_spy: Path, role: str, pid: int, output: Path, seconds: float, log: IO[bytes]) -> Recorder:
        command = [
            str(py_spy), "record", "--pid", str(pid), "--duration", str(round(seconds)),
            "--rate", str(PROFILE_RATE), "--idle", "--format", "raw", "--output", str(output),
        ]  # fmt: skip
        return cls(role, output, seconds, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))

    def finish(self) -> bool:
        """Waits for py-spy to write its file; True if it did."""
        try:
            self.process.wait(self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.stop()
        return self.process.returncode == 0 and self.output.exists()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- one system, all levels ---------------------------------------------------------------------------


@dataclass
class Options:
    levels: tuple[int, ...]
    seconds: float
    warmup: float
    cluster_sizes: tuple[int, ...]
    skip_training: bool
    profile_seconds: float


@dataclass
class SystemResult:
    name: str
    ready_seconds: float
    levels: list[LevelResult] = field(default_factory=list)
    cpu_ms_per_message: dict[int, dict[str, float]] = field(default_factory=dict)  # visitors → role → ms
    other_work_cores: dict[int, float] = field(default_factory=dict)  # visitors → cores busy with anything else
    rss_mib: dict[str, float] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    work_per_message: dict[str, Any] = field(default_factory=dict)
    servers_taken_out: int = 0  # HAProxy: a Rasa server that failed its health checks (Layer 7) under load

    def level(self, visitors: int) -> LevelResult | None:
        return next((level for level in self.levels if level.visitors == visitors), None)


async def profiled_pass(
    system: System, visits: Visits, options: Options, py_spy: Path, logs: Path, log: IO[bytes]
) -> dict[str, dict[str, Any]]:
    """PROFILED_VISITORS visitors with py-spy attached once the warm-up is over. A pass of its
    own, after the measured levels: py-spy pauses a process for every sample, so a profiled
    level's latency would not be the table's."""
    level = Level(PROFILED_VISITORS, options.warmup, options.profile_seconds)
    running = asyncio.create_task(run_level(level, system.url, visits, f"{system.name}-profile"))
    await asyncio.sleep(options.warmup)
    started = time.monotonic()
    recorders = [
        Recorder.start(
            py_spy,
            role,
            system.processes[role].process.pid,
            logs / f"profile-{system.name}-{role.replace(' ', '-')}.txt",
            options.profile_seconds,
            log,
        )
        for role in system.profiled
    ]
    profiles = {}
    try:
        await running
        for recorder in recorders:
            if not await asyncio.to_thread(recorder.finish):
                print(f"  py-spy could not profile the {recorder.role} (see logs/bench.log)", flush=True)
                continue
            messages = answered_between(level.samples, started, started + recorder.seconds)
            categories = ACTION_SERVER if recorder.role == "action server" else RASA_SERVER
            profiles[recorder.role] = summarise_profile(recorder.output, categories, recorder.seconds, messages)
    finally:
        for recorder in recorders:
            recorder.stop()
    return profiles


def measure(
    system: System, visits: Visits, options: Options, py_spy: Path | None, logs: Path, log: IO[bytes]
) -> SystemResult:
    """Every load level against one running system, a profiled pass, its memory, and (once it
    has stopped) its per-message work."""
    result = SystemResult(system.name, system.ready_seconds)
    print(f"  ready in {system.ready_seconds:.0f}s", flush=True)
    for visitors in options.levels:
        before, machine_before, started = cpu_snapshot(system), machine_busy_seconds(), time.monotonic()
        level = asyncio.run(
            run_level(Level(visitors, options.warmup, options.seconds), system.url, visits, system.name)
        )
        after, machine_after, wall = cpu_snapshot(system), machine_busy_seconds(), time.monotonic() - started
        spent = {role: after[role] - before[role] for role in after}
        result.cpu_ms_per_message[visitors] = {
            role: seconds * 1000 / max(level.sent_in_total, 1) for role, seconds in spent.items()
        }
        result.other_work_cores[visitors] = (machine_after - machine_before - sum(spent.values())) / wall
        result.levels.append(level)
        print(
            f"  {visitors:>3} visitors: {level.messages_per_second:6.1f} msg/s, p50 {level.p50_ms:6.0f} ms,"
            f" p95 {level.p95_ms:6.0f} ms, p99 {level.p99_ms:6.0f} ms, errors {level.errors};"
            f" other work {result.other_work_cores[visitors]:.1f} cores",
            flush=True,
        )
    result.rss_mib = {role: round(group_rss_mib(process), 1) for role, process in system.processes.items()}
    if py_spy is not None and system.profiled:
        print(f"  profiling at {PROFILED_VISITORS} visitors …", flush=True)
        result.profiles = asyncio.run(profiled_pass(system, visits, options, py_spy, logs, log))
    system.stop()
    result.work_per_message = system.work_counts()
    return result


# --- training -------------------------------------------------------------------------------------------


def time_clinic_training(work: Path, log: IO[bytes]) -> float:
    """A full `rasa train` of a copy of the clinic's config, domain and data, from the project root
    (config.yml loads models/spacy/clinic_en from there), with a cache of its own so nothing is reused."""
    work.mkdir(parents=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, work / name)
    shutil.copytree(PROJECT_ROOT / "data", work / "data")
    command = [
        str(VENV_BIN / "rasa"), "train", "--force",
        "--config", str(work / "config.yml"), "--domain", str(work / "domain.yml"), "--data", str(work / "data"),
        "--out", str(work / "models"), "--fixed-model-name", "bench-clinic",
    ]  # fmt: skip
    env = {**os.environ, **QUIET, "PYTHONPATH": str(PROJECT_ROOT), "RASA_CACHE_DIRECTORY": str(work / ".rasa-cache")}
    started = time.monotonic()
    output = {"stdout": log, "stderr": subprocess.STDOUT}
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, timeout=TRAINING_TIMEOUT_SECONDS, **output)
    return time.monotonic() - started


# --- report ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "memory GiB": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "python": platform.python_version(),
        "rasa": version("rasa"),
        "rasa-sdk": version("rasa-sdk"),
        "tensorflow": version("tensorflow"),
        "spacy": version("spacy"),
        "haproxy": tool_version(["haproxy", "-v"]),
        "postgresql": tool_version(["psql", "--version"]),
        "redis": tool_version(["redis-server", "--version"]),
    }


def code_version() -> str:
    """The commit measured, and any uncommitted Python files: the servers run the working tree."""
    git = ["git", "-C", str(PROJECT_ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, timeout=10)
    changed = sorted(line[3:] for line in status.stdout.splitlines() if line.endswith(".py"))
    return commit.stdout.strip() + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def tool_version(command: list[str]) -> str:
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "not found"
    return output.splitlines()[0] if output else "unknown"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return numerator / denominator


def headline(results: dict[str, SystemResult]) -> dict[str, Any]:
    """The ratios the two promises are about: clinic/stock p95, and cluster/single throughput."""
    lines: dict[str, Any] = {}
    stock, single = results.get("stock"), results.get("clinic-1")
    if stock and single:
        for level in stock.levels:
            if clinic := single.level(level.visitors):
                lines[f"clinic p95 / stock p95 at {level.visitors}"] = ratio(clinic.p95_ms, level.p95_ms)
                lines[f"clinic msg/s / stock msg/s at {level.visitors}"] = ratio(
                    clinic.messages_per_second, level.messages_per_second
                )
    baseline = "cluster-1" if "cluster-1" in results else "clinic-1"
    lines["scaling baseline"] = baseline
    clusters = [name for name in results if name.startswith("cluster-") and name != "cluster-1"]
    for name in clusters if baseline in results else []:
        for level in results[name].levels[1:]:  # one visitor cannot use a second server
            for reference in dict.fromkeys(("clinic-1", baseline)):
                if other := results[reference].level(level.visitors):
                    lines[f"{name} msg/s / {reference} msg/s at {level.visitors}"] = ratio(
                        level.messages_per_second, other.messages_per_second
                    )
        top = results[name].levels[-1]
        if (other := results[baseline].level(top.visitors)) and (
            scaled := ratio(top.messages_per_second, other.messages_per_second)
        ):
            size = int(name.removeprefix("cluster-"))
            lines[f"{name} scaling efficiency at {top.visitors} (vs {baseline})"] = scaled / size
    return lines


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.{digits}f}"


def load_table(results: dict[str, SystemResult]) -> list[str]:
    rows = [
        "| system | visitors | msg/s | p50 ms | p95 ms | p99 ms | errors | other work (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        for level in result.levels:
            kinds = ", ".join(f"{kind}: {number}" for kind, number in level.error_kinds.items())
            rows.append(
                f"| {name} | {level.visitors} | {level.messages_per_second:.1f} | {level.p50_ms:.0f} | "
                f"{level.p95_ms:.0f} | {level.p99_ms:.0f} | {level.errors}{f' ({kinds})' if kinds else ''} | "
                f"{fmt(result.other_work_cores.get(level.visitors), 1)} |"
            )
    return rows


def taken_out_lines(results: dict[str, SystemResult]) -> list[str]:
    """HAProxy's health check against a Rasa server whose event loop is busy: when every server
    misses it, every visitor gets a 503 until one passes again."""
    lines = [
        f"- {name}: HAProxy took a Rasa server out {times(result.servers_taken_out)}: its health check "
        f"(GET / every {HEALTH_CHECK_MS} ms, out after two misses) failed at Layer 7, i.e. the busy server "
        "did not answer in time; while no server is up, HAProxy answers 503."
        for name, result in results.items()
        if result.servers_taken_out
    ]
    return [*lines, ""] if lines else []


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def rss_table(results: dict[str, SystemResult]) -> list[str]:
    rows = ["| system | process | RSS MiB |", "|---|---|---:|"]
    for name, result in results.items():
        for role, mib in result.rss_mib.items():
            rows.append(f"| {name} | {role} | {mib:.0f} |")
        rows.append(f"| {name} | **all its processes** | **{sum(result.rss_mib.values()):.0f}** |")
    return rows


def cpu_table(results: dict[str, SystemResult], visitors: int) -> list[str]:
    """CPU per message by process, and what that allows: all the cores' time divided by it."""
    cores = os.cpu_count() or 1
    rows = [f"| system | process | CPU ms per message at {visitors} visitors |", "|---|---|---:|"]
    for name, result in results.items():
        spent = result.cpu_ms_per_message.get(visitors) or {}
        rows += [f"| {name} | {role} | {ms:.1f} |" for role, ms in spent.items() if ms >= 0.05]
        if total := sum(spent.values()):
            measured = result.level(visitors)
            rows.append(
                f"| {name} | **all of the above** (so {cores} cores could serve at most {cores * 1000 / total:.0f} "
                f"msg/s; measured {measured.messages_per_second if measured else 0:.1f}) | **{total:.1f}** |"
            )
    return rows


def profile_tables(results: dict[str, SystemResult]) -> list[str]:
    lines = []
    for name, result in results.items():
        for role, profile in result.profiles.items():
            lines += [
                "",
                f"**{name}, {role}** ({profile['samples']} samples, {profile['messages']} messages; busy "
                f"{profile['busy share']:.0%} of the time, {profile['busy ms per message']:.1f} ms per message):",
                "",
                "| where | share of busy time | ms per message |",
                "|---|---:|---:|",
            ]
            lines += [
                f"| {category} | {numbers['share']:.0%} | {numbers['ms per message']:.1f} |"
                for category, numbers in profile["categories"].items()
            ]
    return lines


WORK_COLUMNS = (
    "actions per message",
    "action-server calls per message",
    "tracker DB transactions per message",
    "events index scans per message",
    "events rows read per message",
    "events rows inserted per message",
    "records DB transactions per message",
)


def work_table(results: dict[str, SystemResult]) -> list[str]:
    header = " | ".join(column.removesuffix(" per message") for column in WORK_COLUMNS)
    rows = [f"| system | visitor messages | {header} |", "|---|" + "---:|" * (len(WORK_COLUMNS) + 1)]
    for name, result in results.items():
        if work := result.work_per_message:
            cells = " | ".join(fmt(work.get(column), 1) for column in WORK_COLUMNS)
            rows.append(f"| {name} | {work['visitor messages']} | {cells} |")
    calls = next((result.work_per_message for result in results.values() if result.work_per_message), None)
    if calls:
        named = ", ".join(f"{action} {count}" for action, count in calls["action-server calls by action"].items())
        rows += ["", f"Action-server calls in the first clinic run, by action: {named}."]
    return rows


def write_report(report: dict[str, Any], results: dict[str, SystemResult], options: Options) -> Path:
    machine_info, ratios = report["machine"], report["headline"]
    training = report["training seconds"]
    lines = [
        "# `make bench`: the clinic assistant against stock Rasa 3.6, one server against the cluster",
        "",
        f"Run {report['started']} ({report['duration seconds'] / 60:.0f} min). Closed-loop REST visitors, "
        f"{options.warmup:.0f} s warm-up then {options.seconds:.0f} s measured per level; every message "
        "expects a reply; request timeout 30 s.",
        "",
        "## Machine",
        "",
        f"- **{machine_info['cores']} cores** ({machine_info['cpu']}), {machine_info['memory GiB']} GiB memory; "
        f"load average {report['load average before']} before, {report['load average after']} after "
        "(other work may share the machine: compare ratios from one run, not absolute numbers across runs).",
        f"- Python {machine_info['python']}, Rasa {machine_info['rasa']}, rasa-sdk {machine_info['rasa-sdk']}, "
        f"TensorFlow {machine_info['tensorflow']}, spaCy {machine_info['spacy']}",
        f"- {machine_info['haproxy']}; {machine_info['postgresql']}; {machine_info['redis']}",
        f"- Code: {report['code']}",
        "",
        "## Load",
        "",
        "stock: `rasa init` moodbot, `rasa run --enable-api`, in-memory tracker. clinic-1: as `make run` "
        "(SQLite tracker store, in-memory lock store). cluster-N: N Rasa servers + N action servers + N delivery "
        "workers behind HAProxy, PostgreSQL tracker store, Redis lock store; no cookies, so each message is "
        "balanced on its own. *Other work*: the cores busy with anything but this system's processes and "
        "the load generator during the level (/proc/stat less theirs: other users of the machine, Redis); "
        "levels measured while it was high are slower for it.",
        "",
        *load_table(results),
        "",
        *taken_out_lines(results),
        "## The ratios that matter",
        "",
        "| ratio | value | target |",
        "|---|---:|---|",
    ]
    for key, value in ratios.items():
        if key == "scaling baseline":
            continue
        target = "≤ 1.5" if key.startswith("clinic p95") and not key.endswith(" 50") else ""
        target = "≥ 1.6 (cores allowing)" if key.startswith("cluster-2 msg/s") else target
        lines.append(f"| {key} | {fmt(value)} | {target} |")
    lines += [
        "",
        f"Scaling efficiency = msg/s(N) / (N × msg/s({ratios['scaling baseline']})) at the highest level; "
        f"the baseline is {ratios['scaling baseline']}"
        + (" (one server on PostgreSQL, like for like)." if ratios["scaling baseline"] == "cluster-1" else "."),
        "",
        f"**What {machine_info['cores']} cores allow.** Every process here shares them: N Rasa servers, N action "
        "servers, N delivery workers, HAProxy, PostgreSQL, Redis and the load generator. A Rasa server's event "
        "loop is one thread, so one server uses about one core (plus TensorFlow's threads); a second server "
        "can add at most the second core, less what everything else takes, and a third adds no core at all. "
        "So throughput stops growing at two cores' worth, cluster-3 cannot beat cluster-2 for long, and a "
        "cluster-2 / cluster-1 ratio near 2 is possible only while the single server used little more than "
        "one core; levels measured while *other work* was high are slower for it. The CPU table below shows "
        "where the cores go.",
        "",
        "## Time to ready (start → every ready URL answers)",
        "",
        "| system | seconds |",
        "|---|---:|",
        *(f"| {name} | {result.ready_seconds:.0f} |" for name, result in results.items()),
        "",
        "clinic-1 includes the records database migration (as `make run`); a cluster also creates its two "
        "PostgreSQL databases, and its Rasa servers load the model at the same time on the same cores.",
        "",
        "## Training",
        "",
        "| model | seconds |",
        "|---|---:|",
        f"| stock moodbot (`rasa init --no-prompt`: writes the moodbot, trains it) | {fmt(training.get('stock'), 0)} |",
        "| clinic (`rasa train --force`, a fresh cache) | "
        + (fmt(training["clinic"], 0) if training.get("clinic") else "not measured this run")
        + " |",
        "",
        "## Resident memory (VmRSS of each process group, after the load)",
        "",
        *rss_table(results),
        "",
        f"## CPU time per message (process groups, at {PROFILED_VISITORS} visitors)",
        "",
        "From /proc: each process group's user + system CPU during the level, divided by the messages sent "
        "in it. Redis and the rest of PostgreSQL are shared with the machine and not counted.",
        "",
        *cpu_table(results, PROFILED_VISITORS),
        "",
        "## Where the time per message goes",
        "",
        f"py-spy (`record --idle`, {PROFILE_RATE} Hz, {options.profile_seconds:.0f} s) at {PROFILED_VISITORS} "
        "visitors. Each sample of the event-loop thread is put in the first category whose code is anywhere "
        "on its stack (NLU components, policies, stores, the action-server client), else in the category of "
        "its innermost frame (Rasa's processor and events, or channels/Sanic/JSON). Idle samples (the loop "
        "waiting, e.g. for the action server's reply) are left out of the shares. TensorFlow's own threads "
        "are native and not sampled: the share of DIET/TED is their Python side plus the wait for them. "
        '"JSON-schema validation" is Rasa 3.6\'s RemoteAction checking each action-server reply with '
        "`jsonschema.validate()`, which first validates the (large) response schema itself, on every call.",
        *profile_tables(results),
        "",
        "## Work per message, read back from the stores",
        "",
        "Per visitor message, from the tracker store's `events` table (the custom actions of domain.yml "
        "`actions:` run on the action server; each visit's first message also runs `action_session_start`) "
        "and, for the clusters, from PostgreSQL's statistics between the start of the load and the stop "
        "(background work included: the console's indexer, the delivery workers' outbox polling). Rasa "
        "loads the tracker once and saves it once per message (the only tracker-store call sites in the "
        "profiles); each pooled-connection checkout also runs SQLAlchemy's pre-ping (channels/fail_closed.py), "
        "a transaction of its own. On a small events table (a new clinic; these fresh databases) PostgreSQL "
        "runs Rasa's session-start subquery once per event row of the conversation (EXPLAIN: loops = its "
        "events), so scans and rows read per message grow with the conversation; on a large analysed table "
        "it runs once.",
        "",
        *work_table(results),
        "",
        "## Charts",
        "",
        "![p50 and p95 latency](latency.png)",
        "",
        "![throughput](throughput.png)",
        "",
    ]
    path = RESULTS / "REPORT.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_charts(results: dict[str, SystemResult]) -> None:
    """latency.png and throughput.png. matplotlib 3.6 warns about pyparsing's renamed methods as it
    imports and as it first draws text: not ours to fix, so not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        levels = sorted({level.visitors for result in results.values() for level in result.levels})
        for filename, draw in (("latency.png", draw_latency), ("throughput.png", draw_throughput)):
            figure, axes = plt.subplots(figsize=(8, 5))
            draw(axes, results)
            axes.set_xscale("log")
            axes.set_xticks(levels)
            axes.set_xticklabels([str(level) for level in levels])
            axes.set_xlabel("concurrent visitors (closed loop)")
            axes.grid(True, which="both", alpha=0.3)
            axes.legend(fontsize=8)
            figure.tight_layout()
            figure.savefig(RESULTS / filename, dpi=120)
            plt.close(figure)


def draw_latency(axes: Any, results: dict[str, SystemResult]) -> None:
    for index, (name, result) in enumerate(results.items()):
        visitors = [level.visitors for level in result.levels]
        axes.plot(visitors, [level.p95_ms for level in result.levels], "o-", color=f"C{index}", label=f"{name} p95")
        p50 = [level.p50_ms for level in result.levels]
        axes.plot(visitors, p50, "s--", color=f"C{index}", alpha=0.6, label=f"{name} p50")
    axes.set_yscale("log")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title("Latency against concurrent visitors (solid p95, dashed p50)")


def draw_throughput(axes: Any, results: dict[str, SystemResult]) -> None:
    for index, (name, result) in enumerate(results.items()):
        visitors = [level.visitors for level in result.levels]
        axes.plot(visitors, [level.messages_per_second for level in result.levels], "o-", color=f"C{index}", label=name)
    axes.set_ylabel("messages per second")
    axes.set_title("Throughput against concurrent visitors")


def print_headline(report: dict[str, Any], results: dict[str, SystemResult]) -> None:
    print(f"\nOn {report['machine']['cores']} cores (load average {report['load average before']} at the start):")
    for name, result in results.items():
        numbers = "; ".join(
            f"{level.visitors}v {level.messages_per_second:.1f} msg/s p95 {level.p95_ms:.0f} ms"
            for level in result.levels
        )
        print(f"  {name:>10}: {numbers}")
    for key, value in report["headline"].items():
        if key != "scaling baseline":
            print(f"  {key}: {fmt(value)}")
    print(f"Report: {(RESULTS / 'REPORT.md').relative_to(PROJECT_ROOT)}")


# --- main -----------------------------------------------------------------------------------------------


def parse_options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--skip-training", action="store_true", help="do not time the clinic's training")
    parser.add_argument("--quick", action="store_true", help="5 s per level, 1 and 10 visitors, cluster of 2 only")
    args = parser.parse_args(argv)
    if args.quick:
        return Options((1, PROFILED_VISITORS), 5.0, 2.0, cluster_sizes=(2,), skip_training=True, profile_seconds=5.0)
    return Options(
        levels=LEVELS,
        seconds=args.seconds,
        warmup=args.warmup,
        cluster_sizes=CLUSTER_SIZES,
        skip_training=args.skip_training,
        profile_seconds=min(PROFILE_SECONDS, args.seconds),
    )


def interruptible() -> None:
    """SIGTERM, and SIGINT even from a shell that started us in the background (which ignores it),
    unwind like Ctrl-C: every `finally` stops its processes and drops its databases."""
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, signal.default_int_handler)


def servers_taken_out(log: Path) -> int:
    """How often HAProxy marked a Rasa server DOWN because it answered its health check (GET /)
    too slowly or wrongly ("Layer7"), rather than because it was not listening yet ("Layer4")."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return sum(1 for line in lines if " is DOWN, reason: Layer7" in line)


Starter = Callable[[IO[bytes]], Any]  # log → a context manager that yields a running System


def systems_to_measure(options: Options, model: Path, work: Path) -> list[tuple[str, Starter, Visits]]:
    """In order: stock, the clinic on one server, then each cluster (the first one profiled)."""
    systems: list[tuple[str, Starter, Visits]] = [
        ("stock", partial(stock_rasa, work / "moodbot"), moodbot_visits),
        ("clinic-1", partial(clinic_single, model, work / "clinic-1"), clinic_visits),
    ]
    for size in options.cluster_sizes:
        profiled = size == options.cluster_sizes[0]
        starter = partial(clinic_cluster, model, size, work / f"cluster-{size}", profiled=profiled)
        systems.append((f"cluster-{size}", starter, clinic_visits))
    return systems


def run(options: Options, work: Path) -> tuple[dict[str, SystemResult], dict[str, float | None]]:
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    model = model_path()
    if not model.exists():
        raise StartupError(f"No trained model {model.name}: run `make train` first.")
    results: dict[str, SystemResult] = {}
    training: dict[str, float | None] = {}
    with (logs / "bench.log").open("wb") as log:
        py_spy = ensure_py_spy(log)
        if py_spy is None:
            print(f"py-spy could not be installed ({PY_SPY}); no profiles this run (see logs/bench.log).")
        print("stock Rasa: rasa init --no-prompt (trains the moodbot) …", flush=True)
        training["stock"] = init_stock_project(work / "moodbot", log)
        for name, start, visits in systems_to_measure(options, model, work):
            print(f"{name}: starting …", flush=True)
            with (logs / f"{name}.log").open("wb") as server_log, start(server_log) as system:
                results[name] = measure(system, visits, options, py_spy, logs, log)
            results[name].servers_taken_out = servers_taken_out(logs / f"{name}.log")
        if not options.skip_training:
            print("clinic: rasa train (a full training, about 6-10 minutes) …", flush=True)
            training["clinic"] = time_clinic_training(work / "training", log)
    return results, training


def main(argv: list[str]) -> int:
    options = parse_options(argv)
    interruptible()
    RESULTS.mkdir(parents=True, exist_ok=True)
    started_at, started, load_before = datetime.now(timezone.utc), time.monotonic(), os.getloadavg()
    code = code_version()  # now: the servers load the working tree as it is when they start
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    try:
        results, training = run(options, work)
    except (StartupError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"\nCannot run the benchmark: {error} (logs: {RESULTS / 'logs'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped; every process and temporary database is gone.", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "started": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "duration seconds": time.monotonic() - started,
        "load average before": " ".join(f"{value:.1f}" for value in load_before),
        "load average after": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "machine": machine(),
        "code": code,
        "options": asdict(options),
        "headline": headline(results),
        "training seconds": training,
        "systems": {name: asdict(result) for name, result in results.items()},
    }
    (RESULTS / "results.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    write_charts(results)
    write_report(report, results, options)
    print_headline(report, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
