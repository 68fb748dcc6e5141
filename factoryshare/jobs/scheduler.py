"""The one scheduler process (`factoryshare scheduler`): never started by a web worker.

APScheduler 3 BlockingScheduler; every job coalesces missed runs into one, never runs twice at
once in this process (max_instances=1), and tolerates a late start (misfire_grace_time). The
runner's lock keeps a second scheduler process from running the same job at the same time.
Each job first runs just after the scheduler starts (a few seconds apart, so that on SQLite
they do not all queue for the one writer at once), then every INTERVALS minutes: a restarted
`make run` expires holds and sends mail at once instead of an interval later.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from factoryshare.db import transaction
from factoryshare.jobs.registry import INTERVALS, JOBS
from factoryshare.jobs.runner import run_job

log = logging.getLogger(__name__)

FIRST_RUN_AFTER_SECONDS = 2
FIRST_RUNS_APART_SECONDS = 3


def run_once(session_factory: Any, name: str, lock_dir: Path) -> None:
    try:
        with transaction(session_factory) as session:
            run = run_job(session, name, lock_dir=lock_dir,
                          once_per=dt.timedelta(minutes=INTERVALS.get(name, 15)))
        if run is None:
            log.info("job %s skipped: another runner holds its lock or ran it this interval", name)
        else:
            log.info("job %s %s %s", name, run.status.value, run.counts or run.error)
    except Exception:  # noqa: BLE001  (a failing run must not stop the scheduler)
        log.exception("job %s crashed", name)


def build_scheduler(session_factory: Any, lock_dir: Path) -> Any:
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=FIRST_RUN_AFTER_SECONDS)
    for i, name in enumerate(JOBS):
        scheduler.add_job(run_once, "interval", minutes=INTERVALS.get(name, 15),
                          args=(session_factory, name, lock_dir), id=name, replace_existing=True,
                          next_run_time=start + dt.timedelta(seconds=FIRST_RUNS_APART_SECONDS * i))
    return scheduler
