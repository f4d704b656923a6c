"""Makes a tracker store failure fail the turn, instead of Rasa's silent in-memory fallback.

Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database is unreachable it
logs the error and carries on with an empty in-memory tracker. The visitor then gets an answer
out of context (mid-screening, a "yes" heard as a fresh message), the turn is kept only in that
one process's memory, and with several servers each holds a different piece. Here the error is
raised instead: the turn stops, the reply guard asks the visitor to send the message again, and
once the database is back the next turn finds the conversation as it was.

The SQL store's connections are also checked before use (SQLAlchemy's pre-ping): after a
database restart, every pooled connection is dead, and without the check each server would
fail one more turn per stale connection before noticing.
"""

from __future__ import annotations

from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Sanic


def raise_error(error: Exception) -> None:
    raise error


def fail_closed(app: Sanic) -> None:
    """Called once the agent is loaded (after_server_start)."""
    store = getattr(getattr(app.ctx, "agent", None), "tracker_store", None)
    if not isinstance(store, FailSafeTrackerStore):
        return
    # Rasa 3.6 sets both only in constructors it calls itself: the wrapper and the engine are its own.
    store._on_tracker_store_error = raise_error
    engine = getattr(store._tracker_store, "engine", None)
    if engine is not None:
        engine.pool._pre_ping = True
