"""The schedule-run worker's time outside the solver, phase by phase, on PostgreSQL.

    python benchmarks/worker_overhead.py --repeats 3
    python benchmarks/worker_overhead.py --database-url postgresql+psycopg://.../fs_other

Builds a house of 40 machines (every other one sewing and cutting, the rest sewing), five
members, 50 products (every other one cut then sewn) and 250 waiting production requests over
one week: the shape of tests/factoryshare/test_build_problem_statements.py. Then, for each
repeat, queues a schedule run with a 2 s solver limit and runs the worker's own code path for
it in-process (`worker.run_once`, as `factoryshare worker` does), timing its phases:

- claim: requeue stale runs, claim the queued run, lock it again for the build (three
  transactions);
- build_problem: `solving.build_problem`;
- write problem: from the problem built to the solve started (the commit that stores the
  problem, reading it back as a solver.Problem, the heartbeat thread starting);
- solve: `solver.solve`, the solver's own time (greedy start, CP-SAT model and search);
- store: lock the run again, `solving.store_solution` (assignments, KPIs) and the commit.

Statements are counted per phase by an SQLAlchemy `before_cursor_execute` listener on the
worker's engine (BEGIN and COMMIT are not cursor statements; the commits' time is in their
phase). The overhead share is the time outside `solver.solve` over the time in it, and over
the run's 2 s limit. Beside the wall-clock time, the worker thread's CPU time of each phase
(`time.thread_time`): on a loaded machine it moves less than the wall clock (for the solve
it is the calling thread's only, the greedy start and the model; CP-SAT searches in threads
of its own). The worker's
`warm_up` (what `factoryshare worker` does before its first run) runs before the first
measured run and is timed on its own.

The database is dropped and migrated again (default: fs_h4): never point it at data you want
to keep. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from booking_load import reset_database

import solver
from factoryshare import worker
from factoryshare.access import Actor
from factoryshare.db import make_engine, make_session_factory, transaction
from factoryshare.models import (
    Capability,
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
)
from factoryshare.models.members import Product, RoutingStep
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services import production_requests, solving

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_h4"
ADMIN = Actor(user_id=None, role=Role.admin)
JAKARTA = ZoneInfo("Asia/Jakarta")
HOURS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HOURS["sat"] = [["08:00", "12:00"]]
MACHINES, REQUESTS, PRODUCTS, MEMBERS = 40, 250, 50, 5
TIME_LIMIT = 2
PHASES = ("claim", "build_problem", "write problem", "solve", "store")


def next_monday() -> dt.datetime:
    """08:00 WIB on the Monday after next: the requests' earliest start, always ahead."""
    today = dt.datetime.now(JAKARTA).date()
    monday = today + dt.timedelta(days=7 - today.weekday() + 7)
    return dt.datetime.combine(monday, dt.time(8, 0), tzinfo=JAKARTA)


def build_house(factory: Any, monday: dt.datetime) -> int:
    """The house, its machines, members, products and requests; its id."""
    with transaction(factory) as session:
        house = ProductionHouse(
            name="Rumah Produksi Ukur",
            address="Jl. Contoh No. 1",
            region="Garut",
            timezone="Asia/Jakarta",
            opening_hours=HOURS,
            slot_minutes=30,
            requires_confirmation=False,
            hold_minutes=24 * 60,
            max_days_ahead=60,
        )
        sewing = Capability(code="sewing", name="Menjahit")
        cutting = Capability(code="cutting", name="Memotong")
        session.add_all([house, sewing, cutting])
        session.flush()
        for i in range(MACHINES):
            session.add(
                Machine(
                    house_id=house.id,
                    code=f"M-{i + 1:02d}",
                    name=f"Mesin {i + 1}",
                    hourly_rate=50_000,
                    capabilities=[sewing] if i % 2 else [sewing, cutting],
                )
            )
        members = [
            Member(
                house_id=house.id,
                business_name=f"UD Ukur {i}",
                nib=f"91{i:011d}",
                owner_name=f"Pemilik {i}",
                owner_nik=f"3205101205850{i:03d}",
                sector=Sector.fashion,
                phone="+6281234567890",
                email=f"ukur{i}@example.id",
            )
            for i in range(MEMBERS)
        ]
        session.add_all(members)
        session.flush()
        products = []
        for i in range(PRODUCTS):
            steps = [(cutting, 10, 2), (sewing, 15, 5)] if i % 2 else [(sewing, 15, 5)]
            product = Product(
                member_id=members[i % MEMBERS].id, name=f"Produk {i}", sector=Sector.fashion
            )
            product.routing = [
                RoutingStep(position=n, capability_id=c.id, setup_minutes=s, minutes_per_unit=m)
                for n, (c, s, m) in enumerate(steps, start=1)
            ]
            products.append(product)
        session.add_all(products)
        session.flush()
        for i in range(REQUESTS):
            production_requests.create_request(
                session,
                ADMIN,
                {
                    "product_id": products[i % PRODUCTS].id,
                    "quantity": 5 + i % 7,
                    "priority": 1 + i % 3,
                    "earliest_start": monday,
                    "due": monday + dt.timedelta(days=4),
                },
            )
        return house.id


def queue_run(factory: Any, house_id: int, monday: dt.datetime) -> int:
    with transaction(factory) as session:
        run = ScheduleRun(
            house_id=house_id,
            horizon_start=monday.astimezone(dt.UTC),
            horizon_end=(monday + dt.timedelta(days=7)).astimezone(dt.UTC),
            time_limit_seconds=TIME_LIMIT,
            status=RunStatus.queued,
            attempts=0,
        )
        session.add(run)
        session.flush()
        return run.id


class Phases:
    """Which phase the worker is in, and the time and statements of each: the wrapped
    functions mark where a phase begins, the listener counts a statement in the phase it is
    sent in."""

    def __init__(self) -> None:
        self.current = "claim"
        self.since = time.perf_counter()
        self.cpu_since = time.thread_time()
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.statements: dict[str, int] = defaultdict(int)
        self.store_solution_seconds = 0.0

    def enter(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.seconds[self.current] += now - self.since
        self.cpu[self.current] += cpu - self.cpu_since
        self.current, self.since, self.cpu_since = name, now, cpu

    def count(self, *args: Any) -> None:
        self.statements[self.current] += 1


# The run being measured: the wrappers mark its phases.
MEASURED: list[Phases] = []


def instrument() -> None:
    """Wrap the worker's calls in place (the worker looks them up on their modules at each
    run), so that what runs is the worker's own code path."""
    build, solve, store = solving.build_problem, solver.solve, solving.store_solution

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        MEASURED[-1].enter("build_problem")
        try:
            return build(*args, **kwargs)
        finally:
            MEASURED[-1].enter("write problem")

    def timed_solve(*args: Any, **kwargs: Any) -> Any:
        MEASURED[-1].enter("solve")
        try:
            return solve(*args, **kwargs)
        finally:
            MEASURED[-1].enter("store")

    def timed_store(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return store(*args, **kwargs)
        finally:
            MEASURED[-1].store_solution_seconds += time.perf_counter() - started

    solving.build_problem = timed_build  # type: ignore[assignment]
    solver.solve = timed_solve  # type: ignore[assignment]
    solving.store_solution = timed_store  # type: ignore[assignment]


def measure(factory: Any, engine: Any, house_id: int, monday: dt.datetime) -> dict[str, Any]:
    """Queue one run and let the worker take it, solve it and store it."""
    run_id = queue_run(factory, house_id, monday)
    phases = Phases()
    MEASURED.append(phases)
    event.listen(engine, "before_cursor_execute", phases.count)
    try:
        phases.since, phases.cpu_since = time.perf_counter(), time.thread_time()
        taken = worker.run_once(factory, worker_id="bench-worker", workers=2)
        phases.enter("done")
    finally:
        event.remove(engine, "before_cursor_execute", phases.count)
    assert taken == run_id, (taken, run_id)
    with transaction(factory) as session:
        run = session.get(ScheduleRun, run_id)
        assert run is not None
        figures = run.kpis or {}
        outcome = {
            "status": run.status.value,
            "error": run.error,
            "scheduled": figures.get("scheduled"),
            "jobs": figures.get("jobs"),
            "objective": figures.get("objective"),
            "assignments": len(run.assignments),
        }
    solve = phases.seconds["solve"]
    outside = sum(phases.seconds[p] for p in PHASES if p != "solve")
    return {
        "seconds": {p: phases.seconds[p] for p in PHASES},
        "cpu": {p: phases.cpu[p] for p in PHASES},
        "statements": {p: phases.statements[p] for p in PHASES},
        "store_solution": phases.store_solution_seconds,
        "outside": outside,
        "share": outside / solve if solve else float("nan"),
        **outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    reset_database(args.database_url)
    engine = make_engine(args.database_url)
    factory = make_session_factory(engine)
    monday = next_monday()
    started = time.perf_counter()
    house_id = build_house(factory, monday)
    print(
        f"house {house_id}: {MACHINES} machines, {REQUESTS} waiting requests, "
        f"{TIME_LIMIT} s solver limit; built in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    worker.warm_up()
    print(
        f"worker.warm_up (the holiday tables, once per process): {time.perf_counter() - started:.2f} s"
    )
    instrument()
    results = []
    for repeat in range(1, args.repeats + 1):
        result = measure(factory, engine, house_id, monday)
        results.append(result)
        print(
            f"\nrun {repeat}: {result['status']}, {result['scheduled']}/{result['jobs']} jobs "
            f"placed, {result['assignments']} assignments, objective {result['objective']}"
        )
        if result["error"]:
            print("  error:", result["error"])
        for p in PHASES:
            print(
                f"  {p:<14} {result['seconds'][p] * 1000:8.1f} ms  "
                f"(worker thread's CPU {result['cpu'][p] * 1000:7.1f} ms)  "
                f"{result['statements'][p]:4d} statements"
            )
        print(f"  (store_solution itself {result['store_solution'] * 1000:.1f} ms)")
        print(
            f"  outside the solver {result['outside'] * 1000:.1f} ms = "
            f"{result['share'] * 100:.1f} % of the solve"
        )
    print("\nmedian over", len(results), "runs:")
    for p in PHASES:
        print(
            f"  {p:<14} {statistics.median(r['seconds'][p] for r in results) * 1000:8.1f} ms  "
            f"(CPU {statistics.median(r['cpu'][p] for r in results) * 1000:7.1f} ms)"
        )
    print(
        f"  outside the solver {statistics.median(r['outside'] for r in results) * 1000:.1f} ms, "
        f"{statistics.median(r['share'] for r in results) * 100:.1f} % of the solve, "
        f"{statistics.median(r['outside'] for r in results) / TIME_LIMIT * 100:.1f} % of the "
        f"{TIME_LIMIT} s limit"
    )
    print(
        f"\n{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
