"""`python deploy/migrate.py`: prepare both databases before a release's pods start.

What `make run-cluster` does before starting its servers (tools/cluster.py), for databases
that already exist (a managed PostgreSQL: create them, and their users, in its console):

1. `alembic upgrade head` on the records database (DATABASE_URL): bookings, outbox, WhatsApp,
   console and privacy tables. Migration 0003 runs `CREATE EXTENSION IF NOT EXISTS pg_trgm`.
2. Rasa's `events` table in the tracker database (TRACKER_DATABASE_URL), so replicas starting
   together on an empty database do not all try to create it.

Both are idempotent: running this again changes nothing. deploy/kubernetes/migrate-job.yaml
runs it as a Job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic.config import main as alembic

from actions.tracker_store import create_events_table

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    os.chdir(PROJECT_ROOT)  # alembic.ini and migrations/ are read from here
    alembic(argv=["upgrade", "head"])
    print("Records database (DATABASE_URL): at the newest schema.", flush=True)
    create_events_table(os.environ["TRACKER_DATABASE_URL"])
    print("Tracker database (TRACKER_DATABASE_URL): events table present.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
