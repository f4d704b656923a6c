"""Fresh records databases for tests: a SQLite file, or a PostgreSQL database created on the
local server (127.0.0.1:5432) and dropped afterwards, both migrated to the newest schema.

Migrating takes seconds and hundreds of tests need a database, so each kind is migrated once
per test session into a template, and every fresh database is a copy of it: a file copy for
SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL (both well under a second).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg2
from alembic import command
from alembic.config import Config

from actions import records
from tools.servers import PROJECT_ROOT

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def migrate(url: str) -> None:
    """`alembic upgrade head` on this database, in this process."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    records.engine(url).dispose()


def admin() -> psycopg2.extensions.connection:
    connection = psycopg2.connect(f"{POSTGRES}/postgres")
    connection.autocommit = True
    return connection


@cache
def template(kind: str) -> str:
    """The migrated template of this kind: a SQLite file path, or a PostgreSQL database name."""
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="clinic-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = directory / "records.db"
        migrate(f"sqlite:///{path}")
        return str(path)
    name = f"clinic_template_{uuid.uuid4().hex[:10]}"
    connection = admin()
    try:
        connection.cursor().execute(f"CREATE DATABASE {name}")
    finally:
        connection.close()
    atexit.register(drop_postgres_database, name)
    migrate(f"{POSTGRES}/{name}")
    return name


def drop_postgres_database(name: str) -> None:
    connection = admin()
    try:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        connection.close()


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of this kind ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "records.db"
        shutil.copyfile(template(kind), path)
        url = f"sqlite:///{path}"
    else:
        name = f"clinic_test_{uuid.uuid4().hex[:10]}"
        connection = admin()
        try:
            connection.cursor().execute(f"CREATE DATABASE {name} TEMPLATE {template(kind)}")
        finally:
            connection.close()
        url = f"{POSTGRES}/{name}"
    try:
        yield url
    finally:
        records.engine(url).dispose()
        if kind == "postgresql":
            drop_postgres_database(name)
