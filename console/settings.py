"""The console's settings, from the environment (and endpoints.yml for the tracker store)."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import URL, make_url

from actions import records

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET_FILE = PROJECT_ROOT / "var" / "console-secret"
ENV_REFERENCE = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class ConsoleSettings:
    port: int
    host: str
    secret: str  # signs session cookies
    records_url: str
    tracker_url: str
    rasa_url: str  # the Rasa server, for replies, resuming and story export
    rasa_token: str | None  # Rasa's --auth-token, for GET /conversations/<id>/story
    staff_token: str | None  # the staff API's token, for replies and resuming
    session_hours: float = 8.0
    secure_cookies: bool = False  # set CONSOLE_SECURE_COOKIES=1 when the console is served over HTTPS

    @classmethod
    def from_environment(cls, endpoints: Path | None = None) -> ConsoleSettings:
        return cls(
            port=int(os.environ.get("CONSOLE_PORT", "5006")),
            host=os.environ.get("HOST", "127.0.0.1"),
            secret=console_secret(),
            records_url=records.database_url(),
            tracker_url=os.environ.get("TRACKER_DATABASE_URL") or tracker_url_from_endpoints(endpoints),
            rasa_url=os.environ.get("RASA_URL", f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"),
            rasa_token=os.environ.get("RASA_TOKEN") or None,
            staff_token=os.environ.get("STAFF_TOKEN") or None,
            session_hours=float(os.environ.get("CONSOLE_SESSION_HOURS", "8")),
            secure_cookies=os.environ.get("CONSOLE_SECURE_COOKIES") == "1",
        )


def console_secret() -> str:
    """CONSOLE_SECRET, else one generated once and kept in var/ so sessions survive restarts."""
    if secret := os.environ.get("CONSOLE_SECRET"):
        return secret
    if SECRET_FILE.exists():
        return SECRET_FILE.read_text(encoding="utf-8").strip()
    SECRET_FILE.parent.mkdir(exist_ok=True)
    secret = secrets.token_urlsafe(32)
    SECRET_FILE.touch(mode=0o600)
    SECRET_FILE.write_text(secret, encoding="utf-8")
    return secret


def tracker_url_from_endpoints(endpoints: Path | None = None) -> str:
    """The SQLAlchemy URL of the tracker store Rasa uses, from its endpoints.yml (SQL type only)."""
    path = endpoints or Path(os.environ.get("RASA_ENDPOINTS", PROJECT_ROOT / "endpoints.yml"))
    text = ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1), ""), path.read_text(encoding="utf-8"))
    store = (yaml.safe_load(text) or {}).get("tracker_store") or {}
    if str(store.get("type", "")).upper() != "SQL":
        raise ValueError(f"{path}: the console reads a SQL tracker store (type: SQL), found {store.get('type')!r}")
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


def without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
