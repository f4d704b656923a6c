"""Rasa's SQL tracker store, as the project's own tools see it: where it is and its `events` table.

Rasa owns the table and writes it; the staff console reads it, and the privacy tools delete
from it (erasure and retention). The table is declared here as Rasa 3.6 creates it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import URL

from actions import records

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_REFERENCE = re.compile(r"\$\{([^}]+)\}")

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def has_events(url: str) -> bool:
    """False until Rasa has created its table (a fresh install whose server never started)."""
    return inspect(records.engine(url)).has_table("events")


def tracker_database_url(endpoints: Path | None = None) -> str:
    """TRACKER_DATABASE_URL, else the SQLAlchemy URL of the store in Rasa's endpoints.yml
    (RASA_ENDPOINTS, default ./endpoints.yml; SQL type only)."""
    if url := os.environ.get("TRACKER_DATABASE_URL"):
        return url
    path = endpoints or Path(os.environ.get("RASA_ENDPOINTS", PROJECT_ROOT / "endpoints.yml"))
    text = ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1), ""), path.read_text(encoding="utf-8"))
    store = (yaml.safe_load(text) or {}).get("tracker_store") or {}
    if str(store.get("type", "")).upper() != "SQL":
        raise ValueError(f"{path}: a SQL tracker store (type: SQL) is needed, found {store.get('type')!r}")
    dialect = store.get("dialect", "sqlite")
    if dialect == "sqlite":
        db = Path(store.get("db", "rasa.db"))
        return f"sqlite:///{db if db.is_absolute() else PROJECT_ROOT / db}"
    return URL.create(
        drivername=dialect,
        username=store.get("username"),
        password=store.get("password"),
        host=store.get("url") or store.get("host"),
        port=store.get("port"),
        database=store.get("db"),
    ).render_as_string(hide_password=False)


def create_events_table(url: str) -> None:
    """Creates Rasa's table before several Rasa servers start at once on an empty database:
    each would try to create it, and all but the first would fail."""
    EVENTS.metadata.create_all(records.engine(url), checkfirst=True)
