"""The WhatsApp channel's settings, read from the environment (README, "Connect your WhatsApp number").

The channel is off unless all four secrets are set: a half-configured channel would accept
messages it cannot answer, or answer without checking who sent them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_BASE = "https://graph.facebook.com/v26.0"
REQUIRED = ("WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")


@dataclass(frozen=True)
class WhatsAppSettings:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    api_base: str = DEFAULT_API_BASE

    @property
    def messages_url(self) -> str:
        return f"{self.api_base.rstrip('/')}/{self.phone_number_id}/messages"

    def __repr__(self) -> str:  # never print the secrets in a log or a traceback
        return f"WhatsAppSettings(phone_number_id={self.phone_number_id!r}, api_base={self.api_base!r})"


def missing_settings(environ: Mapping[str, str] = os.environ) -> list[str]:
    return [name for name in REQUIRED if not environ.get(name, "").strip()]


def settings_from_env(environ: Mapping[str, str] = os.environ) -> WhatsAppSettings | None:
    """The settings, or None when the channel is off (some variable unset)."""
    if missing_settings(environ):
        return None
    return WhatsAppSettings(
        verify_token=environ["WHATSAPP_VERIFY_TOKEN"].strip(),
        app_secret=environ["WHATSAPP_APP_SECRET"].strip(),
        access_token=environ["WHATSAPP_ACCESS_TOKEN"].strip(),
        phone_number_id=environ["WHATSAPP_PHONE_NUMBER_ID"].strip(),
        api_base=environ.get("WHATSAPP_API_BASE", "").strip() or DEFAULT_API_BASE,
    )
