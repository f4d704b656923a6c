"""Signed session cookies and CSRF tokens.

The cookie holds only the account id, the account's session epoch and the session's CSRF
token, signed with itsdangerous (HMAC) and timestamped, so it cannot be forged or kept past its
age. The account is re-read on every request, so a changed role takes effect at once, and a
raised epoch (logout, new password, disabled) ends every earlier session.
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
    epoch: int
    csrf: str


class SessionExpired(Exception):
    """The cookie was genuine but is older than the session's lifetime."""


class Sessions:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="console-session")
        self.max_age_seconds = max_age_seconds

    def issue(self, account_id: int, epoch: int) -> str:
        return self._serializer.dumps({"id": account_id, "epoch": epoch, "csrf": secrets.token_urlsafe(24)})

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
        return SessionData(int(value["id"]), int(value.get("epoch", -1)), str(value["csrf"]))


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


def cookie_options(max_age: int | None, secure: bool) -> dict:
    options: dict = {"httponly": True, "samesite": "Strict", "path": "/"}
    if secure:
        options["secure"] = True  # Sanic writes any value it is given, "Secure=False" included
    if max_age is not None:
        options["max-age"] = max_age
    return options
