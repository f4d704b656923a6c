"""Signed session cookies and CSRF tokens.

The cookie holds only the account id and the session's CSRF token, signed with itsdangerous
(HMAC) and timestamped, so it cannot be forged or kept past its age; the role is re-read from
the database on every request, so a changed or disabled account takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"  # double-submit token for the login form itself


@dataclass(frozen=True)
class SessionData:
    account_id: int
    csrf: str


class SessionExpired(Exception):
    """The cookie was genuine but is older than the session's lifetime."""


class Sessions:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="console-session")
        self.max_age_seconds = max_age_seconds

    def issue(self, account_id: int) -> tuple[str, SessionData]:
        data = SessionData(account_id, secrets.token_urlsafe(24))
        return self._serializer.dumps({"id": account_id, "csrf": data.csrf}), data

    def read(self, cookie: str | None) -> SessionData | None:
        """The session, None if there is none or it was tampered with; SessionExpired if too old."""
        if not cookie:
            return None
        try:
            value = self._serializer.loads(cookie, max_age=self.max_age_seconds)
        except SignatureExpired:
            raise SessionExpired from None
        except BadSignature:
            return None
        return SessionData(int(value["id"]), str(value["csrf"]))


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


def cookie_options(max_age: int | None, secure: bool) -> dict:
    options: dict = {"httponly": True, "samesite": "Strict", "path": "/"}
    if secure:
        options["secure"] = True  # Sanic writes any value it is given, "Secure=False" included
    if max_age is not None:
        options["max-age"] = max_age
    return options
