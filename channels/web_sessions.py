"""Web chat session ids: issued by the server, unguessable, and the only key to a conversation.

The web chat's conversation id is its session id, so whoever holds one reads and continues that
conversation. The server therefore makes every id itself: 144 random bits
(`secrets.token_urlsafe`) and an HMAC-SHA256 of them with the server's secret, cut to 128 bits,
as `<random>.<signature>`. A browser coming back with its stored id continues its conversation
only if the signature is right; a made-up id, one from another channel, a malformed one or one
signed with another secret gets a fresh id (the visitor simply starts a new conversation).

The server keeps nothing per id, so ids stay valid across restarts and across several Rasa
servers behind a load balancer, as long as they share the secret: WEBCHAT_SECRET, else one
generated once into var/webchat-secret (enough for a single machine).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET_FILE = PROJECT_ROOT / "var" / "webchat-secret"
RANDOM_BYTES = 18  # 144 bits, 24 characters
SIGNATURE_BYTES = 16  # 128 bits, 22 characters
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}")


class SessionIds:
    """Issues web chat session ids and recognises the ones this server (or its peers) issued."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("The web chat needs a secret to sign session ids.")
        self._key = secret.encode()

    @classmethod
    def from_environment(cls) -> SessionIds:
        return cls(webchat_secret())

    def issue(self) -> str:
        random_part = secrets.token_urlsafe(RANDOM_BYTES)
        return f"{random_part}.{self._signature(random_part)}"

    def issued(self, session_id: Any) -> bool:
        """True only for a well-formed id with this secret's signature (checked in constant time)."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return False
        random_part, signature = session_id.split(".")
        return hmac.compare_digest(signature, self._signature(random_part))

    def _signature(self, random_part: str) -> str:
        digest = hmac.new(self._key, b"webchat-session:" + random_part.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode()


def webchat_secret(secret_file: Path = SECRET_FILE) -> str:
    """WEBCHAT_SECRET, else one generated once and kept in var/ so ids survive restarts.

    The file appears whole or not at all (written aside, then hard-linked into place), so
    two processes starting together end up with the same secret.
    """
    if secret := os.environ.get("WEBCHAT_SECRET"):
        return secret
    if not secret_file.exists():
        secret_file.parent.mkdir(exist_ok=True)
        draft = secret_file.with_name(f".{secret_file.name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        try:
            os.link(draft, secret_file)
        except FileExistsError:
            pass  # another process was first: its secret is the one
        finally:
            draft.unlink()
    return secret_file.read_text(encoding="utf-8").strip()
