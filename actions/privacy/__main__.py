"""Command line for the clinic's privacy duties (the Makefile's purge, erase and export-visitor).

    python -m actions.privacy purge           apply clinic.yml's retention now
    python -m actions.privacy erase SENDER    erase one conversation (audited)
    python -m actions.privacy export SENDER   print everything held about one conversation as JSON

`erase` asks the running Rasa server to do it (through the staff API, under the
conversation's lock); with no server running it erases directly.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

import requests

from actions.clinic_config import ClinicConfigError, load_clinic_config
from actions.privacy import access, erasure, retention
from channels.erasure import erase_now
from console import audit


def purge() -> int:
    try:
        policy = load_clinic_config().retention
    except ClinicConfigError as error:
        print(error, file=sys.stderr)
        return 2
    removed = retention.purge(policy)
    print(f"Retention: transcripts {policy.transcripts_days} days, bookings {policy.bookings_days} days.")
    print(
        "\n".join(f"  {kind.replace('_', ' ')}: {count}" for kind, count in removed.items()) or "  Nothing to remove."
    )
    return 0


def erase(sender: str) -> int:
    actor = f"cli:{getpass.getuser()}"
    try:
        report = _erase_through_server(sender, actor)
    except requests.ConnectionError:
        report = erase_now(sender, requested_by=actor)  # no server running: nothing else writes now
    audit.write(actor, "erase", report.reference, f"bookings kept: {', '.join(report.booking_references) or 'none'}")
    print(f"Erased conversation {sender!r}: reference {report.reference}.")
    if report.booking_references:
        print(f"Kept booking reference(s) {', '.join(report.booking_references)}; the booking system is notified.")
    return 0


def _erase_through_server(sender: str, actor: str) -> erasure.ErasureReport:
    rasa_url = os.environ.get("RASA_URL", f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}")
    reply = requests.post(
        f"{rasa_url}/staff/conversations/{requests.utils.quote(sender, safe='')}/erase",
        json={"author": actor},
        headers={"Authorization": f"Bearer {os.environ.get('STAFF_TOKEN', '')}"},
        timeout=60,
    )
    if reply.status_code != 200:
        raise SystemExit(f"The Rasa server refused the erasure ({reply.status_code}): {reply.text[:300]}")
    body = reply.json()
    return erasure.ErasureReport(body["reference"], body["booking_references"], body["removed"])


def export(sender: str) -> int:
    json.dump(access.export_visitor(sender), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.privacy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("purge", help="apply the retention periods in clinic.yml now")
    for name, text in (("erase", "erase one conversation"), ("export", "print what is held about a conversation")):
        commands.add_parser(name, help=text).add_argument("sender", help="the conversation id (Rasa's sender id)")
    args = parser.parse_args(argv)
    if args.command == "purge":
        return purge()
    if not args.sender.strip():
        parser.error("SENDER is empty")
    return erase(args.sender) if args.command == "erase" else export(args.sender)


if __name__ == "__main__":
    sys.exit(main())
