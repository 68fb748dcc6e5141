"""A schedule-run worker that lost its claim while solving never saves over the newer attempt."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

import solver
from factoryshare import worker
from factoryshare.db import transaction, utcnow
from factoryshare.models.scheduling import RunStatus, ScheduleRun

# Monday 4 January 2027, 08:00 WIB.
MONDAY = dt.datetime(2027, 1, 4, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
MARK = 999.0  # the stale worker's result carries this as its solve time


@pytest.mark.parametrize(
    ("stale", "fresh"),
    [("worker-a", "worker-b"), ("host:1", "host:1")],
    ids=["another worker", "the same worker name"],
)
def test_a_worker_that_lost_its_claim_while_solving_cannot_save_over_the_newer_attempt(
    db,
    session_factory,
    make_house,
    make_machine,
    make_member,
    make_product,
    make_production_request,
    monkeypatch,
    caplog,
    stale,
    fresh,
):
    house = make_house()
    make_machine(house=house, capabilities=["sewing"])
    make_production_request(
        quantity=4,
        earliest_start=MONDAY,
        due=MONDAY + dt.timedelta(days=2),
        product=make_product(member=make_member(house=house), routing=[("sewing", 15, 5)]),
    )
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY.astimezone(dt.UTC),
        horizon_end=(MONDAY + dt.timedelta(days=5)).astimezone(dt.UTC),
        time_limit_seconds=2,
        status=RunStatus.queued,
        attempts=0,
    )
    db.add(run)
    db.commit()
    real_solve = solver.solve

    def paused_past_the_stale_window(problem, options, *args, **kwargs):  # type: ignore[no-untyped-def]
        solution = real_solve(problem, options, *args, **kwargs)
        # Meanwhile the run looked dead: another worker requeued it and claimed it again.
        later = utcnow() + worker.STALE_AFTER + dt.timedelta(minutes=1)
        with transaction(session_factory) as s:
            assert worker.requeue_stale(s, now=later) == [run.id]
            assert worker.claim(s, fresh, now=later).id == run.id
        return dataclasses.replace(solution, seconds=MARK)

    monkeypatch.setattr(solver, "solve", paused_past_the_stale_window)
    with caplog.at_level(logging.WARNING, logger="factoryshare.worker"):
        assert worker.run_once(session_factory, worker_id=stale) == run.id
    db.expire_all()
    taken_over = db.get(ScheduleRun, run.id)
    assert taken_over.status is RunStatus.running, "the stale worker saved its result"
    assert (taken_over.worker_id, taken_over.attempts) == (fresh, 2)
    assert taken_over.solution is None and taken_over.finished_at is None
    assert any("no longer running under worker" in r.getMessage() for r in caplog.records)

    # The worker holding the run now solves it and saves; its result is the one kept.
    monkeypatch.setattr(solver, "solve", real_solve)
    worker._default_execute(session_factory, run.id)
    db.expire_all()
    done = db.get(ScheduleRun, run.id)
    assert done.status is RunStatus.succeeded, done.error
    assert done.kpis["scheduled"] == 1
    assert done.solution["seconds"] != MARK and done.kpis["seconds"] != MARK
