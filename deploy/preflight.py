"""`python deploy/preflight.py rasa|worker|console|migrate`: refuse to start a Kubernetes pod
whose settings are missing or unsafe, saying which and why.

Kubernetes runs each process directly, without `make run`'s checks (tools/run.py), and most
processes would start anyway on a missing setting: without DATABASE_URL a delivery worker
would use a SQLite file inside its own container; without TRACKER_DATABASE_URL erasure and
retention would look for transcripts in the image's endpoints.yml (SQLite) and find none;
without WEBCHAT_SECRET every replica would sign web chat sessions with a key of its own.
Each Deployment runs this first, as an init container (deploy/kubernetes/); the pod then
stays in Init:Error and `kubectl logs <pod> -c preflight` shows the reasons.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from sqlalchemy.engine import make_url

from actions.clinic_config import ClinicConfigError, load_clinic_config
from channels.whatsapp.settings import REQUIRED as WHATSAPP
from tools.run import exposure_problems

DATABASES = ("DATABASE_URL", "TRACKER_DATABASE_URL")
# Named in the ConfigMap's endpoints.yml as ${…}: Rasa refuses to start if one is not set at
# all. REDIS_PASSWORD may be empty (a Redis without a password) but must exist.
ENDPOINTS = ("TRACKER_DB_HOST", "TRACKER_DB_USER", "TRACKER_DB_PASSWORD", "REDIS_HOST")
MAY_BE_EMPTY = ("REDIS_PASSWORD",)
NEEDED = {
    "rasa": (*DATABASES, *ENDPOINTS, "SOCKETIO_REDIS_URL", "WEBCHAT_SECRET", "RASA_TOKEN", "STAFF_TOKEN"),
    "worker": DATABASES,
    "console": (*DATABASES, "CONSOLE_SECRET", "RASA_TOKEN", "STAFF_TOKEN", "RASA_URL"),
    "migrate": DATABASES,
}
SERVES_NETWORK = ("rasa", "console")  # listen on the pod's address, so tokens are required


def problems(role: str, environ: Mapping[str, str]) -> list[str]:
    found = [f"{name} is not set." for name in NEEDED[role] if not environ.get(name, "").strip()]
    if role == "rasa":
        found += [f"{name} is not set (an empty value is allowed)." for name in MAY_BE_EMPTY if name not in environ]
    for name in DATABASES:
        url = environ.get(name, "").strip()
        if url and make_url(url).get_backend_name() != "postgresql":
            found.append(f"{name} must be a postgresql:// URL: every replica has to share the same database.")
    host = "0.0.0.0" if role in SERVES_NETWORK else "127.0.0.1"
    found += [problem for problem in exposure_problems(host, dict(environ)) if problem not in found]
    if role == "rasa":
        given = [name for name in WHATSAPP if environ.get(name, "").strip()]
        if given and len(given) < len(WHATSAPP):
            missing = ", ".join(name for name in WHATSAPP if name not in given)
            found.append(f"WhatsApp is half configured: {missing} missing (set all four, or none).")
    if role in ("rasa", "worker"):
        try:
            load_clinic_config()
        except ClinicConfigError as error:
            found.append(f"clinic.yml: {error}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in NEEDED:
        print(__doc__, file=sys.stderr)
        return 2
    role = argv[1]
    found = problems(role, os.environ)
    if found:
        print(f"Not starting the {role} pod:", *(f"- {problem}" for problem in found), sep="\n", file=sys.stderr)
        print("Fix the Secret or ConfigMap (docs/deploy.md, 'Secrets and settings').", file=sys.stderr)
        return 1
    print(f"Settings for the {role} pod look complete.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
