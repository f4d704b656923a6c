"""Fresh records databases for tests: a SQLite file, or a PostgreSQL database created on the
local server (127.0.0.1:5432) and dropped afterwards, both migrated to the newest schema."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from actions import records
from tools.servers import PROJECT_ROOT, VENV_BIN

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def migrate(url: str) -> None:
    env = {"PATH": str(VENV_BIN), "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=PROJECT_ROOT, env=env, check=True)


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of this kind ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
    else:
        name = f"clinic_test_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(f"{POSTGRES}/postgres")
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {name}")
        url = f"{POSTGRES}/{name}"
    try:
        migrate(url)
        yield url
    finally:
        records.engine(url).dispose()
        if kind == "postgresql":
            admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
            admin.close()
