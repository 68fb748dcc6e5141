import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import delete

from factoryshare import worker
from factoryshare.db import make_session_factory, transaction
from factoryshare.models import ProductionHouse
from factoryshare.models.scheduling import RunStatus, ScheduleRun

START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


def _queue(db, house, n=1):
    runs = [
        ScheduleRun(
            house_id=house.id,
            horizon_start=START,
            horizon_end=START + dt.timedelta(days=7),
            time_limit_seconds=1,
            status=RunStatus.queued,
            attempts=0,
        )
        for _ in range(n)
    ]
    db.add_all(runs)
    db.commit()
    return [r.id for r in runs]


def test_a_worker_takes_the_oldest_queued_run_once(db, make_house):
    first, second = _queue(db, make_house(), 2)
    run = worker.claim(db, "w1")
    assert run.id == first and run.status is RunStatus.running and run.attempts == 1
    assert worker.claim(db, "w2").id == second
    assert worker.claim(db, "w3") is None


def test_a_run_whose_worker_stopped_beating_is_requeued_then_failed_after_three_tries(
    db, make_house
):
    (run_id,) = _queue(db, make_house())
    now = START
    for attempt in range(1, 4):
        run = worker.claim(db, f"w{attempt}", now=now)
        assert run.id == run_id and run.attempts == attempt
        now += dt.timedelta(minutes=10)
        assert worker.requeue_stale(db, now=now) == [run_id]
    run = db.get(ScheduleRun, run_id)
    assert run.status is RunStatus.failed
    assert "stopped responding" in run.error


def test_a_live_heartbeat_keeps_the_run_with_its_worker(db, make_house):
    (run_id,) = _queue(db, make_house())
    worker.claim(db, "w1")
    assert worker.heartbeat(db, run_id, "w1")
    assert not worker.heartbeat(db, run_id, "someone-else")
    assert worker.requeue_stale(db) == []


def test_a_long_solve_keeps_beating_so_it_is_not_taken_for_a_dead_worker(
    db, session_factory, make_house
):
    (run_id,) = _queue(db, make_house())
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    worker.claim(db, "w1", now=long_ago)
    db.commit()
    beat = worker._Beat(session_factory, run_id, "w1", every=0.02)
    with beat:
        deadline = threading.Event()
        for _ in range(100):  # the beat is asynchronous: wait until it has landed
            db.expire_all()
            if db.get(ScheduleRun, run_id).heartbeat_at > long_ago:
                break
            deadline.wait(0.02)
    db.expire_all()
    assert db.get(ScheduleRun, run_id).heartbeat_at > long_ago
    assert worker.requeue_stale(db) == []


def test_two_workers_on_postgresql_each_take_a_run_exactly_once(engine, is_postgres):
    if not is_postgres:
        pytest.skip("SKIP LOCKED claims are a PostgreSQL feature; SQLite serialises writers")
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        house = ProductionHouse(
            name=f"Rumah Produksi {uuid.uuid4().hex[:8]}", timezone="Asia/Jakarta"
        )
        s.add(house)
        s.flush()
        house_id = house.id
        runs = [
            ScheduleRun(
                house_id=house_id,
                horizon_start=START,
                horizon_end=START + dt.timedelta(days=7),
                time_limit_seconds=1,
                status=RunStatus.queued,
                attempts=0,
            )
            for _ in range(6)
        ]
        s.add_all(runs)
        s.flush()
        ids = {r.id for r in runs}
    taken: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def work(name):
        barrier.wait()
        while True:
            got = worker.run_once(factory, worker_id=name, execute=lambda f, i: None)
            if got is None:
                return
            taken[name].append(got)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in taken]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        all_taken = taken["a"] + taken["b"]
        assert sorted(all_taken) == sorted(ids)
        assert len(set(all_taken)) == len(all_taken)
    finally:
        with transaction(factory) as s:
            s.execute(delete(ScheduleRun).where(ScheduleRun.house_id == house_id))
            s.execute(delete(ProductionHouse).where(ProductionHouse.id == house_id))


def test_the_worker_command_with_once_reports_an_empty_queue(settings, engine):
    from click.testing import CliRunner

    from factoryshare.cli import cli

    result = CliRunner().invoke(
        cli, ["worker", "--once"], env={"DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == 0, result.output
    assert "run" in result.output.lower()
