"""Staff accounts of an agent station: roles, argon2id-hashed PINs, sign-in with lock-out.

A PIN (or password) is stored only as an argon2id hash (argon2-cffi's PHC string with its
own salt and cost parameters), so a copied database does not give the PINs away and each
guess costs memory and time. Signing in is refused for a while after repeated failures
(:class:`LockoutPolicy`, from the ``[staff]`` section of the config); every attempt, good
or bad, is written to the hash-chained audit log (:mod:`sync.audit`).

Roles, from least to most trusted in the hall: ``agent`` (submits on a citizen's behalf,
reprints), ``supervisor`` (also retries and cancels dead letters), ``technician`` (set-up
and maintenance; may do what a supervisor does).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sync.audit import AuditAction
from sync.store import Store
from sync.store_common import StoreError, from_db_time, to_db_time, utc_now, write_audit

log = logging.getLogger(__name__)

AGENT = "agent"
SUPERVISOR = "supervisor"
TECHNICIAN = "technician"
ROLES = (AGENT, SUPERVISOR, TECHNICIAN)
# Who may do what a role allows: a technician may act as a supervisor.
_SATISFIES = {AGENT: {AGENT, SUPERVISOR, TECHNICIAN}, SUPERVISOR: {SUPERVISOR, TECHNICIAN},
              TECHNICIAN: {TECHNICIAN}}
MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 128
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")

# argon2id with argon2-cffi's RFC 9106 "low memory" profile (64 MiB, 3 passes).
_HASHER = PasswordHasher()


class StaffError(StoreError):
    """A staff account operation that cannot be done; the message says why and the fix."""


class PermissionDenied(StaffError):
    """The signed-in account's role does not allow the action."""


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed attempts in a row, refuse for ``lockout`` minutes."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class StaffAccount:
    """A staff account (never its PIN hash)."""

    username: str
    display_name: str
    role: str
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_sign_in_at: datetime | None

    def may_act_as(self, role: str) -> bool:
        """Whether this account may do what ``role`` is allowed to do."""
        return self.role in _SATISFIES[role]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (``kiosk staff list --json``)."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "failed_attempts": self.failed_attempts,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "created_at": self.created_at.isoformat(),
            "last_sign_in_at": self.last_sign_in_at.isoformat() if self.last_sign_in_at else None,
        }


class SignInOutcome:
    """How a sign-in attempt ended (:attr:`SignInResult.outcome`)."""

    OK = "ok"
    FAILED = "failed"  # wrong PIN or unknown account (not told apart to the person)
    LOCKED = "locked"  # too many failures; try again after ``locked_until``


@dataclass(frozen=True)
class SignInResult:
    """The result of :func:`sign_in`; ``account`` is set only when ``ok``."""

    outcome: str
    account: StaffAccount | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None

    @property
    def ok(self) -> bool:
        """True when the person is signed in."""
        return self.outcome == SignInOutcome.OK


def check_username(username: str) -> str:
    """The username in canonical form; raises :class:`StaffError` if unusable."""
    name = username.strip().lower()
    if not _USERNAME_RE.match(name):
        raise StaffError(
            f"username {username!r} must be 2-32 characters: a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_pin(pin: str) -> None:
    """Raise :class:`StaffError` unless ``pin`` is an acceptable PIN or password."""
    if not MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH:
        raise StaffError(f"a PIN or password needs {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} characters")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise StaffError("this PIN is too easy to guess (one digit repeated, or a run); choose another")


def hash_pin(pin: str) -> str:
    """The argon2id PHC string of ``pin``."""
    return _HASHER.hash(pin)


_COLUMNS = "username, display_name, role, failed_attempts, locked_until, created_at, last_sign_in_at"


def _account(row: Any) -> StaffAccount:
    return StaffAccount(
        username=row[0],
        display_name=row[1],
        role=row[2],
        failed_attempts=row[3],
        locked_until=from_db_time(row[4]) if row[4] else None,
        created_at=from_db_time(row[5]),
        last_sign_in_at=from_db_time(row[6]) if row[6] else None,
    )


def add_staff(
    store: Store,
    username: str,
    pin: str,
    role: str,
    *,
    display_name: str | None = None,
    actor: str = "cli",
    now: datetime | None = None,
) -> StaffAccount:
    """Create a staff account; audited. Raises :class:`StaffError` (exists, bad name/PIN/role)."""
    name = check_username(username)
    if role not in ROLES:
        raise StaffError(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_pin(pin)
    digest = hash_pin(pin)  # slow on purpose: outside the write transaction
    now = now or utc_now()
    at = to_db_time(now)
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM staff WHERE username = ?", (name,)).fetchone():
            raise StaffError(f"staff account {name} exists; use `kiosk staff reset-pin {name}`")
        db.execute(
            "INSERT INTO staff (username, display_name, role, pin_hash, failed_attempts, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
            (name, (display_name or name).strip()[:64], role, digest, at, at),
        )
        write_audit(db, now, AuditAction.STAFF_ADDED, actor=actor, detail=f"{name} ({role})")
    log.info("Staff account %s (%s) added", name, role)
    return get_staff(store, name)


def get_staff(store: Store, username: str) -> StaffAccount:
    """One account; raises :class:`StaffError` if there is none."""
    name = username.strip().lower()
    with store.reading() as db:
        row = db.execute(f"SELECT {_COLUMNS} FROM staff WHERE username = ?", (name,)).fetchone()
    if row is None:
        raise StaffError(f"no staff account {name!r}; see `kiosk staff list`")
    return _account(row)


def list_staff(store: Store) -> list[StaffAccount]:
    """Every account, by username."""
    with store.reading() as db:
        rows = db.execute(f"SELECT {_COLUMNS} FROM staff ORDER BY username").fetchall()
    return [_account(r) for r in rows]


def reset_pin(
    store: Store, username: str, pin: str, *, actor: str = "cli", now: datetime | None = None
) -> StaffAccount:
    """Set a new PIN and lift any lock-out; audited."""
    account = get_staff(store, username)
    check_pin(pin)
    digest = hash_pin(pin)
    now = now or utc_now()
    with store.transaction() as db:
        db.execute(
            "UPDATE staff SET pin_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? "
            "WHERE username = ?",
            (digest, to_db_time(now), account.username),
        )
        write_audit(db, now, AuditAction.STAFF_PIN_RESET, actor=actor, detail=account.username)
    return get_staff(store, account.username)


def sign_in(
    store: Store,
    username: str,
    pin: str,
    *,
    policy: LockoutPolicy | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Check a sign-in attempt, count failures, lock out after too many; always audited.

    An unknown username and a wrong PIN give the same answer (``failed``), so the screen
    cannot be used to find out which accounts exist. A locked account is refused without
    checking the PIN, and the attempt does not extend the lock.
    """
    policy = policy or LockoutPolicy()
    now = now or utc_now()
    name = username.strip().lower()[:64]
    with store.reading() as db:
        row = db.execute(
            f"SELECT {_COLUMNS}, pin_hash FROM staff WHERE username = ?", (name,)
        ).fetchone()
    if row is None:
        _HASHER.hash(pin[:MAX_PIN_LENGTH])  # same cost as a real check: no timing hint
        store.audit(AuditAction.SIGN_IN_FAILED, actor=name or "-", detail="unknown account", now=now)
        return SignInResult(SignInOutcome.FAILED)
    account = _account(row)
    if account.locked_until is not None and account.locked_until > now:
        store.audit(AuditAction.SIGN_IN_LOCKED, actor=name,
                    detail=f"locked until {to_db_time(account.locked_until)}", now=now)
        return SignInResult(SignInOutcome.LOCKED, locked_until=account.locked_until)
    try:
        good = _HASHER.verify(row[7], pin)
    except VerifyMismatchError:
        good = False
    except (VerificationError, InvalidHashError):
        log.error("staff account %s has an unreadable PIN hash; reset its PIN", name)
        good = False
    if good:
        return _succeeded(store, account, row[7], pin, now)
    return _failed(store, account, policy, now)


def _succeeded(store: Store, account: StaffAccount, digest: str, pin: str, now: datetime) -> SignInResult:
    new_digest = hash_pin(pin) if _HASHER.check_needs_rehash(digest) else digest
    with store.transaction() as db:
        db.execute(
            "UPDATE staff SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = ?, "
            "pin_hash = ?, updated_at = ? WHERE username = ?",
            (to_db_time(now), new_digest, to_db_time(now), account.username),
        )
        write_audit(db, now, AuditAction.SIGN_IN_OK, actor=account.username, detail=account.role)
    return SignInResult(SignInOutcome.OK, account=get_staff(store, account.username))


def _failed(store: Store, account: StaffAccount, policy: LockoutPolicy, now: datetime) -> SignInResult:
    with store.transaction() as db:
        row = db.execute(
            "SELECT failed_attempts FROM staff WHERE username = ?", (account.username,)
        ).fetchone()
        failures = int(row[0]) + 1
        locked_until = now + policy.lockout if failures >= policy.max_failures else None
        db.execute(
            "UPDATE staff SET failed_attempts = ?, locked_until = ?, updated_at = ? WHERE username = ?",
            (0 if locked_until else failures, to_db_time(locked_until) if locked_until else None,
             to_db_time(now), account.username),
        )
        detail = f"wrong PIN ({failures} in a row)"
        if locked_until is not None:
            detail += f"; locked until {to_db_time(locked_until)}"
        write_audit(db, now, AuditAction.SIGN_IN_FAILED, actor=account.username, detail=detail)
    if locked_until is not None:
        log.warning("staff account %s locked out after %d failed sign-ins", account.username, failures)
        return SignInResult(SignInOutcome.LOCKED, locked_until=locked_until)
    return SignInResult(SignInOutcome.FAILED, attempts_left=policy.max_failures - failures)


def require_role(account: StaffAccount, role: str, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``account`` may act as ``role``."""
    if not account.may_act_as(role):
        raise PermissionDenied(
            f"{action} needs a {role} account; {account.username} is an {account.role}"
        )


def retry_dead_letter(
    store: Store, account: StaffAccount, submission_id: str, reason: str, *, now: datetime | None = None
) -> None:
    """A supervisor queues a dead letter again, with a reason (audited under their name)."""
    require_role(account, SUPERVISOR, "retrying a dead letter")
    if not reason.strip():
        raise StaffError("say why the dead letter can be sent now (the reason is audited)")
    store.retry_dead(submission_id, reason.strip(), actor=account.username, now=now)


def cancel_dead_letter(
    store: Store, account: StaffAccount, submission_id: str, reason: str, *, now: datetime | None = None
) -> None:
    """A supervisor gives up on a dead letter for good, with a reason (audited)."""
    require_role(account, SUPERVISOR, "cancelling a dead letter")
    if not reason.strip():
        raise StaffError("say why the dead letter is cancelled (the reason is audited)")
    store.cancel_dead(submission_id, reason.strip(), actor=account.username, now=now)
