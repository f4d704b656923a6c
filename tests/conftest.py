"""Shared fixtures: the real assistant (action server + Rasa server) on free local ports, and
one headless Chromium (Debian's, driven by Playwright) for every browser test.

The servers run as separate processes exactly as `make run` starts them, with their own
copy of clinic.yml and their own SQLite tracker store, so tests can change both freely.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.receiver import WebhookReceiver
from tests.support import UNLIMITED, WEBHOOK_SECRET, WHATSAPP, RunningAssistant, meta_simulator, running_assistant
from tests.whatsapp.simulator import GraphSimulator
from tools.model import model_path
from tools.servers import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser tests: run `make browser` (installs Debian's chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    model = model_path()
    if not model.exists():
        pytest.fail(f"No trained model for the current data ({model.name}): run `make train` first.")
    return model


@pytest.fixture(scope="session")
def booking_system() -> Iterator[WebhookReceiver]:
    """The clinic's booking system; down until a test starts it."""
    receiver = WebhookReceiver(free_port())
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def staff_inbox() -> Iterator[WebhookReceiver]:
    """Where staff notifications go; up for the whole session."""
    receiver = WebhookReceiver(free_port())
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def meta() -> Iterator[GraphSimulator]:
    """Meta's Graph API for the WhatsApp channel; it posts webhooks to the assistant."""
    with meta_simulator() as simulator:
        yield simulator


@pytest.fixture(scope="session")
def assistant(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    booking_system: WebhookReceiver,
    staff_inbox: WebhookReceiver,
    meta: GraphSimulator,
) -> Iterator[RunningAssistant]:
    extra_env = {
        "BOOKING_WEBHOOK_URL": booking_system.url,
        "BOOKING_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STAFF_WEBHOOK_URL": staff_inbox.url,
        "STAFF_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DELIVERY_POLL_SECONDS": "0.3",
        **WHATSAPP,
        "WHATSAPP_API_BASE": meta.api_base,
        "WHATSAPP_RETRY_SECONDS": "0.3",
        **UNLIMITED,
    }
    with running_assistant(trained_model, tmp_path_factory.mktemp("assistant"), extra_env) as running:
        meta.webhook_url = f"{running.url}/webhooks/whatsapp/webhook"
        yield running


@pytest.fixture
def visitor() -> str:
    """A fresh conversation id, as a new visitor would get."""
    return f"visitor-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def console_roles(assistant: RunningAssistant) -> dict[str, str]:
    """Staff console accounts, one per role: test-staff, test-clinician, test-admin."""
    from tests.console.support import ensure_accounts

    return ensure_accounts(assistant)
