"""The one scheduler process (`factoryshare scheduler`): never started by a web worker.

APScheduler 3 BlockingScheduler; every job coalesces missed runs into one, never runs twice at
once in this process (max_instances=1), and tolerates a late start (misfire_grace_time). The
runner's lock keeps a second scheduler process from running the same job at the same time.
Each job first runs just after the scheduler starts (a few seconds apart, so that on SQLite
they do not all queue for the one writer at once), then every INTERVALS minutes: a restarted
`make run` expires holds and sends mail at once instead of an interval later. A DAILY_AT job
fires by a CronTrigger at its time of day in each of Indonesia's zones (07:00 WIB, WITA and
WIT are three instants an hour apart) instead of polling hourly.

Several schedulers (several hosts) may run: each run takes the job's lock and is skipped when
another scheduler already ran the job within its interval (for a daily job: within half an
hour, since the zones' runs are an hour apart).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from factoryshare import clock
from factoryshare.db import transaction
from factoryshare.jobs.registry import DAILY_AT, INTERVALS, JOBS
from factoryshare.jobs.runner import run_job
from factoryshare.zones import INDONESIAN_ZONES

log = logging.getLogger(__name__)

FIRST_RUN_AFTER_SECONDS = 2
FIRST_RUNS_APART_SECONDS = 3
# Two runs of a daily job closer than this are the same run (the zones' runs are an hour apart).
DAILY_ONCE_PER = dt.timedelta(minutes=30)


def once_per(name: str) -> dt.timedelta:
    """How far apart two scheduled runs of `name` must be, between all schedulers."""
    if name in DAILY_AT:
        return DAILY_ONCE_PER
    return dt.timedelta(minutes=INTERVALS.get(name, 15))


def daily_zones() -> list[str]:
    """One zone per distinct UTC offset among the zones a house may keep (WIB, WITA, WIT)."""
    seen: dict[dt.timedelta | None, str] = {}
    now = clock.now()
    for zone in INDONESIAN_ZONES:
        seen.setdefault(now.astimezone(ZoneInfo(zone)).utcoffset(), zone)
    return list(seen.values())


def run_once(session_factory: Any, name: str, lock_dir: Path) -> None:
    try:
        with transaction(session_factory) as session:
            run = run_job(session, name, lock_dir=lock_dir, once_per=once_per(name))
        if run is None:
            log.info("job %s skipped: another runner holds its lock or ran it this interval", name)
        else:
            log.info("job %s %s %s", name, run.status.value, run.counts or run.error)
    except Exception:
        log.exception("job %s crashed", name)


def build_scheduler(session_factory: Any, lock_dir: Path) -> Any:
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    # APScheduler fires on its own wall clock, so its first runs are dated by the wall clock
    # too, never by a clock a test has fixed.
    start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=FIRST_RUN_AFTER_SECONDS)
    from apscheduler.triggers.cron import CronTrigger

    for i, name in enumerate(JOBS):
        first_run = start + dt.timedelta(seconds=FIRST_RUNS_APART_SECONDS * i)
        if name in DAILY_AT:
            at = DAILY_AT[name]
            scheduler.add_job(
                run_once,
                "date",
                run_date=first_run,
                id=f"{name}@start",
                args=(session_factory, name, lock_dir),
                replace_existing=True,
            )
            for zone in daily_zones():
                scheduler.add_job(
                    run_once,
                    CronTrigger(hour=at.hour, minute=at.minute, timezone=zone),
                    args=(session_factory, name, lock_dir),
                    id=f"{name}@{zone}",
                    replace_existing=True,
                )
            continue
        scheduler.add_job(
            run_once,
            "interval",
            minutes=INTERVALS.get(name, 15),
            args=(session_factory, name, lock_dir),
            id=name,
            replace_existing=True,
            next_run_time=first_run,
        )
    return scheduler
