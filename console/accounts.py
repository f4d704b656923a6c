"""Staff accounts: Argon2id password hashes, roles, and lock-out after repeated failures.

`make staff-user NAME=anna ROLE=admin` runs this module: it asks for the password (or reads
STAFF_PASSWORD, for scripts) and creates the account, or resets its password and role.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from actions import records
from console import audit
from console.models import ROLES, StaffAccount

HASHER = PasswordHasher()  # Argon2id with argon2-cffi's current recommended parameters
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class Login:
    """The result of a login attempt."""

    account: StaffAccount | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


def check_new_account(name: str, role: str, password: str) -> None:
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(name) > 64:
        raise AccountError("A name is 1 to 64 letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")


def save_account(name: str, role: str, password: str, actor: str, url: str | None = None) -> bool:
    """Creates the account, or sets a new password and role; True if it was created."""
    check_new_account(name, role, password)
    password_hash = HASHER.hash(password)
    with records.session(url) as db:
        account = db.scalars(select(StaffAccount).where(StaffAccount.name == name)).one_or_none()
        created = account is None
        if created:
            account = StaffAccount(
                name=name, created_at=records.utcnow(), failed_logins=0, active=True, session_epoch=0
            )
            db.add(account)
        else:
            account.session_epoch += 1  # a new password ends the sessions made with the old one
        account.role, account.password_hash, account.active = role, password_hash, True
        account.failed_logins, account.locked_until = 0, None
        audit.record(db, actor, "account_created" if created else "account_changed", name, f"role {role}")
    return created


def set_active(name: str, active: bool, actor: str, url: str | None = None) -> None:
    with records.session(url) as db:
        account = db.scalars(select(StaffAccount).where(StaffAccount.name == name)).one()
        account.active = active
        if not active:
            account.session_epoch += 1
        audit.record(db, actor, "account_enabled" if active else "account_disabled", name)


def accounts(url: str | None = None) -> list[StaffAccount]:
    with records.session(url) as db:
        return list(db.scalars(select(StaffAccount).order_by(StaffAccount.name)))


def end_sessions(account_id: int, url: str | None = None) -> None:
    """Logout: the account's current session cookies stop working, on every device."""
    with records.session(url) as db:
        account = db.get(StaffAccount, account_id)
        account.session_epoch += 1
        audit.record(db, account.name, "logout", account.name)


def account_by_id(account_id: int, url: str | None = None) -> StaffAccount | None:
    with records.session(url) as db:
        return db.get(StaffAccount, account_id)


def log_in(name: str, password: str, url: str | None = None, now: datetime | None = None) -> Login:
    """Checks the password; counts failures and locks the account for a while after too many."""
    now = now or records.utcnow()
    with records.session(url) as db:
        # Locked for update: parallel guesses are counted one after the other, not all as the first.
        account = db.scalars(select(StaffAccount).where(StaffAccount.name == name).with_for_update()).one_or_none()
        if account is None or not account.active:
            _verify(_DUMMY_HASH, password)
            audit.record(db, name[:64] or "(no name)", "login_failed", name[:255], "unknown or disabled account")
            return Login(None)
        if account.locked_until and account.locked_until > now:
            audit.record(db, account.name, "login_failed", account.name, "account locked")
            return Login(None, account.locked_until)
        if not _verify(account.password_hash, password):
            account.failed_logins += 1
            detail = "wrong password"
            if account.failed_logins >= MAX_FAILURES:
                account.locked_until, account.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
                detail += f"; locked for {LOCK_MINUTES} minutes"
            audit.record(db, account.name, "login_failed", account.name, detail)
            return Login(None, account.locked_until if account.locked_until and account.locked_until > now else None)
        account.failed_logins, account.locked_until = 0, None
        if HASHER.check_needs_rehash(account.password_hash):
            account.password_hash = HASHER.hash(password)
        audit.record(db, account.name, "login", account.name)
        return Login(account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create a staff console account, or reset its password and role.")
    parser.add_argument("name")
    parser.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)
    password = os.environ.get("STAFF_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            print("The two passwords differ; nothing changed.", file=sys.stderr)
            return 1
    try:
        created = save_account(args.name, args.role, password, actor="command line")
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{'Created' if created else 'Updated'} {args.role} account {args.name!r}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
