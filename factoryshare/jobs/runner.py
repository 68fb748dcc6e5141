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
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

from factoryshare.db import utcnow
from factoryshare.errors import NotFound
from factoryshare.i18n import N_
from factoryshare.jobs.registry import JOBS
from factoryshare.models.jobs import JobRun, JobStatus


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"factoryshare-job:{name}".encode()).digest()[:8],
                          "big", signed=True)


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


def run_job(session: Session, name: str, *, lock_dir: Path,
            now: dt.datetime | None = None) -> JobRun | None:
    """Run `name` once in `session`'s transaction; None if another runner holds its lock.

    A failing job is recorded as failed with its error and the job's own changes are rolled
    back to a savepoint, so the record survives.
    """
    if name not in JOBS:
        raise NotFound(N_("There is no job named %(name)s.", name=repr(name)))
    now = now or utcnow()
    with job_lock(session, name, lock_dir) as got:
        if not got:
            return None
        run = JobRun(job=name, started_at=utcnow(), status=JobStatus.running, counts={},
                     host=socket.gethostname()[:255])
        session.add(run)
        session.flush()
        try:
            with session.begin_nested():
                counts: dict[str, Any] = JOBS[name](session, now)
        except Exception as exc:  # noqa: BLE001  (recorded, not hidden)
            run.status = JobStatus.failed
            run.error = f"{type(exc).__name__}: {exc}"[:4000]
        else:
            run.status = JobStatus.succeeded
            run.counts = counts
        run.finished_at = utcnow()
        session.flush()
        return run
