"""State transitions under concurrency: row locks, and when a transaction may be run again.

Every service that moves an object from one state to another (a booking confirmed, moved or
cancelled; a loan application submitted, approved or rejected; a schedule run published or
discarded) loads the object through `for_update` and checks the state it finds:

- on PostgreSQL that is `SELECT ... FOR UPDATE OF <table>`: the row stays locked until the
  transaction ends, so a second, conflicting transition waits for the first to commit and then
  reads the state the first one left;
- on SQLite every write transaction begins with `BEGIN IMMEDIATE` (factoryshare/db.py), so
  writers are serialised already and the plain read is current.

Either way the columns are read again *after* the lock (`populate_existing`), even when the
session had loaded the object earlier, so the loser of a race sees the new state and answers
409 `invalid_transition` (`require_state`) instead of writing over the winner's change.

A deadlock (SQLSTATE 40P01) or a serialisation failure (40001) aborts the whole transaction;
it is worth running once more. `is_retryable` says which errors those are and `backoff` how
long to wait before the next attempt; api/database.py re-runs a whole request with them, at
most `ATTEMPTS` times in all, before it answers 503.

A check-then-insert against a ceiling that no row carries (a member's weekly booking quota)
has no row to lock: `advisory_lock` serialises it on a key instead (PostgreSQL's
transaction-level advisory lock; on SQLite BEGIN IMMEDIATE serialises already).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.access import Actor, scoped
from factoryshare.db import MAX_ID
from factoryshare.errors import InvalidTransition, NotFound
from factoryshare.i18n import N_

T = TypeVar("T")

# SQLSTATEs after which the same transaction, run again from the start, may well succeed.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# Attempts in all (the first one included) before the caller gives up with 503.
ATTEMPTS = 3
# Backoff before attempt n+1: a random wait of up to BACKOFF_SECONDS * 2**(n-1), "full jitter",
# so that the transactions that deadlocked together do not collide again in step.
BACKOFF_SECONDS = 0.05


def _locked(stmt: Any, model: type) -> Any:
    return stmt.with_for_update(of=model).execution_options(populate_existing=True)


def for_update(session: Session, actor: Actor, model: type[T], object_id: int) -> T:
    """Load one object in the caller's scope with its row locked until the transaction ends,
    its state read after the lock; NotFound (never saying which) outside the scope."""
    name = i18n.label(model)
    if not isinstance(object_id, int) or isinstance(object_id, bool) or not 0 < object_id <= MAX_ID:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=object_id))
    stmt = scoped(actor, model).where(model.id == object_id)  # type: ignore[attr-defined]
    obj = session.scalars(_locked(stmt, model)).first()
    if obj is None:
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=name, object_id=object_id))
    return obj


def refresh_for_update(session: Session, obj: T) -> T:
    """Lock the row of an object already loaded and read its state again."""
    model = inspect(obj).mapper.class_
    session.scalars(_locked(select(model).where(model.id == obj.id), model)).first()  # type: ignore[attr-defined]
    return obj


def rows_for_update(session: Session, model: type[T], ids: Iterable[int]) -> list[T]:
    """Lock several rows, always in id order (so that two transactions locking overlapping
    sets wait for each other instead of deadlocking), their state read after the lock."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(model).where(model.id.in_(wanted)).order_by(model.id)  # type: ignore[attr-defined]
    return list(session.scalars(_locked(stmt, model)))


def require_state(obj: Any, allowed: Iterable[Any], message: str, *, action: str) -> None:
    """409 invalid_transition unless the (freshly locked) object is in one of `allowed`;
    the details name the `action` refused and the status the object is in now."""
    status = obj.status
    if status not in tuple(allowed):
        raise InvalidTransition(
            message, details={"action": action, "status": getattr(status, "value", status)}
        )


def advisory_lock(session: Session, *key: str | int) -> None:
    """Wait until no other transaction holds the lock on `key` (e.g. "booking_quota", member
    id, ISO year, ISO week), then hold it until this transaction ends. Take it before the check
    whose answer a concurrent insert could change: the one who waits reads after the other's
    commit. Rolling back to a savepoint taken before it releases it again."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: every write transaction begins with BEGIN IMMEDIATE (factoryshare/db.py)
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE the database gave for `exc` (psycopg 3 or psycopg2), when it gave one."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialisation failure: the whole transaction may simply be run again."""
    return isinstance(exc, DBAPIError) and sqlstate(exc) in RETRYABLE_SQLSTATES


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...)."""
    return random.uniform(0, BACKOFF_SECONDS * 2 ** (attempt - 1))


__all__ = [
    "ATTEMPTS",
    "advisory_lock",
    "backoff",
    "for_update",
    "is_retryable",
    "refresh_for_update",
    "require_state",
    "rows_for_update",
    "sqlstate",
]
