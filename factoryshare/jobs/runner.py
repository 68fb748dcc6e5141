"""Run one job once under a lock, recording a JobRun; a run whose lock is held is skipped.

PostgreSQL: `pg_try_advisory_xact_lock` (released with the transaction).
SQLite: an exclusive non-blocking file lock in the instance folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factoryshare.db import utcnow
from factoryshare.errors import NotFound
from factoryshare.i18n import N_
from factoryshare.jobs.registry import JOBS
from factoryshare.models.jobs import JobRun, JobStatus


def _lock_key(name: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"factoryshare-job:{name}".encode()).digest()[:8], "big", signed=True
    )


@contextlib.contextmanager
def job_lock(session: Session, name: str, lock_dir: Path) -> Iterator[bool]:
    """Yield True if this process now holds the job's lock, False if someone else does."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _lock_key(name)}
        ).scalar()
        yield bool(got)
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"job-{name}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# A scheduler's tick may come this much early against the last run's start (clock jitter,
# the previous run's own start delay) and still count as the next interval's run.
INTERVAL_SLACK = 0.1


def ran_within(session: Session, name: str, interval: dt.timedelta, now: dt.datetime) -> bool:
    """Whether a run of `name` started within the last `interval` (less the slack)."""
    since = now - interval * (1 - INTERVAL_SLACK)
    return (
        session.scalar(
            select(JobRun.id)
            .where(
                JobRun.job == name, JobRun.started_at > since, JobRun.status != JobStatus.skipped
            )
            .limit(1)
        )
        is not None
    )


def run_job(
    session: Session,
    name: str,
    *,
    lock_dir: Path,
    now: dt.datetime | None = None,
    once_per: dt.timedelta | None = None,
) -> JobRun | None:
    """Run `name` once in `session`'s transaction; None if another runner holds its lock.

    With `once_per` (the schedulers pass the job's interval) the run is also skipped, None,
    when another runner already ran the job within that interval: several scheduler
    processes, on one host or several sharing the database, run each job once per interval
    between them. The check is made under the job's lock, so two runners cannot both pass it.
    A manual run (`factoryshare run-job`) passes nothing and always runs.

    A failing job is recorded as failed with its error and the job's own changes are rolled
    back to a savepoint, so the record survives.
    """
    if name not in JOBS:
        raise NotFound(N_("There is no job named %(name)s.", name=repr(name)))
    now = now or utcnow()
    with job_lock(session, name, lock_dir) as got:
        if not got:
            return None
        if once_per is not None and ran_within(session, name, once_per, utcnow()):
            return None
        run = JobRun(
            job=name,
            started_at=utcnow(),
            status=JobStatus.running,
            counts={},
            host=socket.gethostname()[:255],
        )
        session.add(run)
        session.flush()
        try:
            with session.begin_nested():
                counts: dict[str, Any] = JOBS[name](session, now)
        except Exception as exc:
            run.status = JobStatus.failed
            run.error = f"{type(exc).__name__}: {exc}"[:4000]
        else:
            run.status = JobStatus.succeeded
            run.counts = counts
        run.finished_at = utcnow()
        session.flush()
        return run
