"""The schedule-run worker: claim one queued run, solve it outside any transaction, store it.

Claiming is safe with any number of workers on any hosts sharing the database: on PostgreSQL
the claim is `SELECT ... FOR UPDATE SKIP LOCKED`, on SQLite every write transaction starts
with BEGIN IMMEDIATE (factoryshare/db.py), so claims are serialised. A run whose heartbeat is
older than `stale_after` is requeued with attempts + 1, and failed after MAX_ATTEMPTS.
While a run is being solved a background thread beats every HEARTBEAT_EVERY, so a long solve
(the time limit may exceed `stale_after`) is never mistaken for a dead worker.

A claim is the worker's id together with the attempt it started (`Claim`): a worker paused
past the stale window may find its run requeued and claimed again, by another worker or even
under its own name. Every later write of the run (a heartbeat, the result) first locks the
run's row and checks that the claim is still the run's; a worker that lost it writes nothing
and logs that it dropped its result, so it never overwrites the newer attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factoryshare.db import transaction, utcnow
from factoryshare.models.scheduling import RunStatus, ScheduleRun

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = dt.timedelta(minutes=5)
HEARTBEAT_EVERY = 30.0  # seconds; well inside STALE_AFTER


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """Which worker holds a run, and for which attempt."""

    worker_id: str
    attempt: int

    @classmethod
    def of(cls, run: ScheduleRun) -> Claim:
        return cls(run.worker_id or "", run.attempts)


def claimed_run(session: Session, run_id: int, claim: Claim) -> ScheduleRun | None:
    """The run with its row locked until the transaction ends, if it is still running under
    `claim`; None when it was requeued, taken over, discarded or finished meanwhile."""
    stmt = (
        select(ScheduleRun)
        .where(ScheduleRun.id == run_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    run = session.scalars(stmt).first()
    if run is None or run.status is not RunStatus.running or Claim.of(run) != claim:
        return None
    return run


def requeue_stale(
    session: Session, *, now: dt.datetime | None = None, stale_after: dt.timedelta = STALE_AFTER
) -> list[int]:
    """Put back runs whose worker stopped beating; fail those tried MAX_ATTEMPTS times."""
    now = now or utcnow()
    stmt = select(ScheduleRun).where(
        ScheduleRun.status == RunStatus.running, ScheduleRun.heartbeat_at < now - stale_after
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    touched = []
    for run in session.scalars(stmt):
        run.worker_id = None
        if run.attempts >= MAX_ATTEMPTS:
            run.status = RunStatus.failed
            run.error = f"The worker stopped responding {run.attempts} times."
            run.finished_at = now
        else:
            run.status = RunStatus.queued
        touched.append(run.id)
    session.flush()
    return touched


def claim(
    session: Session, worker_id: str, *, now: dt.datetime | None = None
) -> ScheduleRun | None:
    """Take the oldest queued run for this worker, or None when the queue is empty."""
    now = now or utcnow()
    stmt = (
        select(ScheduleRun)
        .where(ScheduleRun.status == RunStatus.queued)
        .order_by(ScheduleRun.created_at, ScheduleRun.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    run = session.scalars(stmt).first()
    if run is None:
        return None
    run.status = RunStatus.running
    run.worker_id = worker_id
    run.attempts += 1
    run.started_at = now
    run.heartbeat_at = now
    session.flush()
    return run


def heartbeat(session: Session, run_id: int, worker_id: str, attempt: int | None = None) -> bool:
    """Refresh the run's heartbeat; False when the run is no longer this worker's (for
    `attempt`, when given)."""
    run = session.get(ScheduleRun, run_id, populate_existing=True)
    if run is None or run.status is not RunStatus.running or run.worker_id != worker_id:
        return False
    if attempt is not None and run.attempts != attempt:
        return False
    run.heartbeat_at = utcnow()
    session.flush()
    return True


class _Beat:
    """Refreshes a run's heartbeat from a thread while the solve runs outside transactions."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        run_id: int,
        worker_id: str,
        every: float = HEARTBEAT_EVERY,
        attempt: int | None = None,
    ) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop,
            name=f"heartbeat-{run_id}",
            daemon=True,
            args=(session_factory, run_id, worker_id, every, attempt),
        )

    def _loop(
        self,
        session_factory: sessionmaker[Session],
        run_id: int,
        worker_id: str,
        every: float,
        attempt: int | None,
    ) -> None:
        while not self._stop.wait(every):
            try:
                with transaction(session_factory) as session:
                    if not heartbeat(session, run_id, worker_id, attempt):
                        return
            except Exception:
                log.exception("heartbeat of run %s failed", run_id)

    def __enter__(self) -> _Beat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _default_execute(
    session_factory: sessionmaker[Session],
    run_id: int,
    *,
    workers: int = 2,
    work_per_second: float = 0.0,
    taken: Claim | None = None,
) -> None:
    """Build the problem, solve it outside any transaction, then store the proposal.

    The solve can take minutes; no database transaction or lock is held meanwhile. If the
    run stopped being ours under `taken` (discarded, or requeued as stale and maybe claimed
    again), the result is dropped and the drop logged. Without `taken`, the claim the run
    carries when this starts. `workers` is the number of CP-SAT threads (SOLVER_WORKERS);
    `work_per_second` makes the solve reproducible (solving.solve_options).
    """
    import solver
    from factoryshare.services import solving

    with transaction(session_factory) as session:
        if taken is None:
            current = session.get(ScheduleRun, run_id)
            if current is None:
                return
            taken = Claim.of(current)
        run = claimed_run(session, run_id, taken)
        if run is None:
            log.warning(
                "schedule run %s is no longer running under worker %s (attempt %s); not solving it",
                run_id,
                taken.worker_id,
                taken.attempt,
            )
            return
        run.problem = solving.build_problem(session, run)
        problem_data, time_limit = run.problem, run.time_limit_seconds
        policies = solving.policies_of(run)
    try:
        problem = solver.problem_from_dict(problem_data)
        with _Beat(session_factory, run_id, taken.worker_id, attempt=taken.attempt):
            solution = solver.solve(
                problem, solving.solve_options(time_limit, workers, work_per_second), policies
            )
        failure = None
    except Exception as exc:
        log.exception("schedule run %s failed", run_id)
        failure = f"The solve failed: {exc}"
    with transaction(session_factory) as session:
        run = claimed_run(session, run_id, taken)
        if run is None:
            log.warning(
                "schedule run %s is no longer running under worker %s (attempt %s): "
                "requeued, taken over or discarded while it solved; its result is "
                "dropped and the run's newer state kept",
                run_id,
                taken.worker_id,
                taken.attempt,
            )
            return
        if failure is None:
            solving.store_solution(session, run, problem, solution)
            run.status = RunStatus.succeeded
        else:
            run.status = RunStatus.failed
            run.error = failure
        run.finished_at = utcnow()


def run_once(
    session_factory: sessionmaker[Session],
    *,
    worker_id: str | None = None,
    execute: Callable[[sessionmaker[Session], int], Any] | None = None,
    workers: int = 2,
    work_per_second: float = 0.0,
) -> int | None:
    """Requeue stale runs, claim one and execute it; the id of the run taken, or None."""
    worker_id = worker_id or worker_name()
    with transaction(session_factory) as session:
        requeue_stale(session)
    with transaction(session_factory) as session:
        run = claim(session, worker_id)
        run_id = run.id if run is not None else None
        taken = Claim.of(run) if run is not None else None
    if run_id is None:
        return None
    if execute is not None:
        execute(session_factory, run_id)
    else:
        _default_execute(
            session_factory, run_id, workers=workers, work_per_second=work_per_second, taken=taken
        )
    return run_id


def warm_up() -> None:
    """Load what every run reads and a process loads only once (the `holidays` package's
    country tables, imported on first use), so that the worker's first run does not pay for it
    inside its transaction."""
    from factoryshare.services import calendar

    calendar.holiday_name(utcnow().date())


def loop(
    session_factory: sessionmaker[Session],
    *,
    poll_seconds: float = 2.0,
    once: bool = False,
    workers: int = 2,
    work_per_second: float = 0.0,
) -> None:
    worker_id = worker_name()
    warm_up()
    while True:
        taken = run_once(
            session_factory,
            worker_id=worker_id,
            workers=workers,
            work_per_second=work_per_second,
        )
        if once:
            return
        if taken is None:
            time.sleep(poll_seconds)
