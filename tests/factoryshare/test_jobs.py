import datetime as dt
import fcntl

import pytest

from factoryshare.errors import NotFound
from factoryshare.jobs.runner import run_job
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.jobs import JobRun, JobStatus

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


def test_expiring_holds_twice_expires_each_hold_once_and_records_both_runs(
    db, make_booking, tmp_path
):
    stale = make_booking(status=BookingStatus.held, hold_expires_at=NOW - dt.timedelta(minutes=1))
    fresh = make_booking(status=BookingStatus.held, hold_expires_at=NOW + dt.timedelta(hours=1))

    first = run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW)
    second = run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW)

    assert first.status is JobStatus.succeeded and first.counts == {"expired": 1}
    assert second.counts == {"expired": 0}
    assert stale.status is BookingStatus.cancelled
    assert fresh.status is BookingStatus.held
    assert db.query(JobRun).filter_by(job="expire_holds").count() == 2


def test_a_runner_skips_a_job_whose_lock_another_runner_holds(db, tmp_path):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("the file lock is the SQLite runner's lock")
    with open(tmp_path / "job-expire_holds.lock", "a+") as other_runner:
        fcntl.flock(other_runner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW) is None
        fcntl.flock(other_runner, fcntl.LOCK_UN)
    assert run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW) is not None


def test_on_postgresql_a_runner_skips_a_job_another_process_is_running(db, engine, tmp_path):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the advisory lock is the PostgreSQL runner's lock")
    from sqlalchemy import text

    from factoryshare.jobs.runner import _lock_key

    # Another scheduler process: its own connection holding the job's advisory lock.
    with engine.connect() as other_scheduler, other_scheduler.begin():
        assert other_scheduler.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key("expire_holds")}
        ).scalar()
        assert run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW) is None
    assert run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW) is not None


def test_an_unknown_job_name_is_not_found(db, tmp_path):
    with pytest.raises(NotFound):
        run_job(db, "make_coffee", lock_dir=tmp_path)


def test_an_admin_sees_the_latest_job_runs_and_a_manager_is_refused(
    db, client, make_user, token_for, tmp_path
):
    from factoryshare.models import Role

    run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW)

    r = client.get("/api/v1/job-runs?job=expire_holds", headers=token_for(make_user(Role.admin)))
    assert r.status_code == 200, r.json
    assert r.json["total"] >= 1
    assert r.json["items"][0]["status"] == "succeeded"
    assert r.json["items"][0]["counts"] == {"expired": 0}
    assert (
        client.get("/api/v1/job-runs", headers=token_for(make_user(Role.manager))).status_code
        == 403
    )


def test_the_cli_lists_and_runs_a_job(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from factoryshare.cli import cli

    monkeypatch.setenv("FACTORYSHARE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    assert "expire_holds" in runner.invoke(cli, ["jobs", "list"]).output
    assert runner.invoke(cli, ["init-db"]).exit_code == 0
    result = runner.invoke(cli, ["jobs", "run", "expire_holds"])
    assert result.exit_code == 0, result.output
    assert "expire_holds: succeeded" in result.output
    assert runner.invoke(cli, ["jobs", "run", "nope"]).exit_code != 0


def test_the_scheduler_coalesces_missed_runs_and_never_overlaps_a_job(tmp_path):
    from factoryshare.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(session_factory=None, lock_dir=tmp_path)
    job = scheduler.get_job("expire_holds")

    assert job is not None
    defaults = scheduler._job_defaults  # applied to every job when the scheduler starts
    assert defaults["coalesce"] is True
    assert defaults["max_instances"] == 1
    assert defaults["misfire_grace_time"] == 300


def test_a_scheduler_skips_a_job_another_scheduler_ran_within_its_interval(db, tmp_path):
    # Two schedulers (two hosts sharing the database) each tick every interval; between them
    # the job runs once per interval. A manual run is never held back.
    from factoryshare.db import utcnow

    db.add(
        JobRun(
            job="expire_holds",
            started_at=utcnow() - dt.timedelta(minutes=2),
            finished_at=utcnow(),
            status=JobStatus.succeeded,
            counts={},
            host="other",
        )
    )
    db.flush()

    assert (
        run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW, once_per=dt.timedelta(minutes=5))
        is None
    )
    assert (
        run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW, once_per=dt.timedelta(minutes=1))
        is not None
    )
    assert run_job(db, "expire_holds", lock_dir=tmp_path, now=NOW) is not None


def test_the_permit_watch_fires_at_seven_in_the_morning_in_each_indonesian_zone(tmp_path):
    from factoryshare.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(session_factory=None, lock_dir=tmp_path)
    after = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    fires = {}
    for zone in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"):
        job = scheduler.get_job(f"permit_watch@{zone}")
        assert job is not None
        fires[zone] = job.trigger.get_next_fire_time(None, after).astimezone(dt.UTC)

    # 07:00 WIB, WITA and WIT on 2 December: 00:00, 23:00 and 22:00 UTC.
    assert fires == {
        "Asia/Jakarta": dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC),
        "Asia/Makassar": dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC),
        "Asia/Jayapura": dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC),
    }
    # No hourly poll any more, but one run just after the scheduler starts.
    assert scheduler.get_job("permit_watch") is None
    assert scheduler.get_job("permit_watch@start") is not None
