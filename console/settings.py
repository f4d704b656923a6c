"""The console's settings, from the environment (and endpoints.yml for the tracker store)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from actions import records
from actions.tracker_store import tracker_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET_FILE = PROJECT_ROOT / "var" / "console-secret"


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
            tracker_url=tracker_database_url(endpoints),
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


def without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
