"""Shared fixtures: the real assistant (action server + Rasa server) on free local ports.

The servers run as separate processes exactly as `make run` starts them, with their own
copy of clinic.yml and their own SQLite tracker store, so tests can change both freely.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.receiver import WebhookReceiver
from tests.support import API_TOKEN, STAFF_TOKEN, WEBHOOK_SECRET, WHATSAPP, RunningAssistant
from tests.whatsapp.simulator import GraphSimulator
from tools.model import model_path
from tools.servers import PROJECT_ROOT, AssistantServers, StartupError, free_port


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
    simulator = GraphSimulator(
        app_secret=WHATSAPP["WHATSAPP_APP_SECRET"],
        access_token=WHATSAPP["WHATSAPP_ACCESS_TOKEN"],
        phone_number_id=WHATSAPP["WHATSAPP_PHONE_NUMBER_ID"],
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def assistant(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    booking_system: WebhookReceiver,
    staff_inbox: WebhookReceiver,
    meta: GraphSimulator,
) -> Iterator[RunningAssistant]:
    work = tmp_path_factory.mktemp("assistant")
    clinic_file = work / "clinic.yml"
    shutil.copy(PROJECT_ROOT / "clinic.yml", clinic_file)
    tracker_db = work / "tracker.db"
    action_port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n",
        encoding="utf-8",
    )
    log_file = work / "servers.log"
    with log_file.open("wb") as log:
        servers = AssistantServers(
            model=trained_model,
            endpoints=endpoints,
            rasa_port=free_port(),
            action_port=action_port,
            console_port=free_port(),
            auth_token=API_TOKEN,
            log=log,
            extra_env={
                "CLINIC_CONFIG": str(clinic_file),
                "DATABASE_URL": f"sqlite:///{work / 'clinic.db'}",
                "BOOKING_WEBHOOK_URL": booking_system.url,
                "BOOKING_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STAFF_WEBHOOK_URL": staff_inbox.url,
                "STAFF_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STAFF_TOKEN": STAFF_TOKEN,
                "DELIVERY_POLL_SECONDS": "0.3",
                **WHATSAPP,
                "WHATSAPP_API_BASE": meta.api_base,
                "WHATSAPP_RETRY_SECONDS": "0.3",
                "CONSOLE_SECRET": "console-test-secret",
            },
        )
        try:
            servers.start()
        except StartupError as error:
            pytest.fail(f"{error}\n--- server log ---\n{log_file.read_text(errors='replace')[-5000:]}")
        meta.webhook_url = f"{servers.url}/webhooks/whatsapp/webhook"
        try:
            yield RunningAssistant(servers, clinic_file, tracker_db, log_file, work / "clinic.db")
        finally:
            servers.stop()


@pytest.fixture
def visitor() -> str:
    """A fresh conversation id, as a new visitor would get."""
    return f"visitor-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def console_roles(assistant: RunningAssistant) -> dict[str, str]:
    """Staff console accounts, one per role: test-staff, test-clinician, test-admin."""
    from tests.console.support import ensure_accounts

    return ensure_accounts(assistant)
