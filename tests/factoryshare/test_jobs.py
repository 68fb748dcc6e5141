import datetime as dt
import fcntl

import pytest

from factoryshare.errors import NotFound
from factoryshare.jobs.runner import run_job
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.jobs import JobRun, JobStatus

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc)


def test_expiring_holds_twice_expires_each_hold_once_and_records_both_runs(db, make_booking, tmp_path):
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


def test_an_unknown_job_name_is_not_found(db, tmp_path):
    with pytest.raises(NotFound):
        run_job(db, "make_coffee", lock_dir=tmp_path)
