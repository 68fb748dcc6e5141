"""A schedule run's problem costs the same statements for 40 machines and 250 requests as for
one machine and one request: the house's calendar, its machines, their downtimes and bookings,
the requests with their operations and products, and the permits behind the deadlines are each
read once for the whole problem (counts, never timings)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import event

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from factoryshare.services import production_requests, solving

JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN = Actor(user_id=None, role=Role.admin)
MONDAY = dt.datetime(2027, 1, 4, 8, 0, tzinfo=JAKARTA)


def _house_with(
    db,
    make_house,
    make_machine,
    make_member,
    make_product,  # type: ignore[no-untyped-def]
    machines: int,
    requests: int,
    products: int,
) -> ScheduleRun:
    house = make_house()
    for i in range(machines):
        make_machine(house=house, capabilities=["sewing"] if i % 2 else ["sewing", "cutting"])
    members = [make_member(house_id=house.id) for _ in range(min(5, products))]
    made = [
        make_product(
            member=members[i % len(members)],
            routing=[("cutting", 10, 2), ("sewing", 15, 5)] if i % 2 else None,
        )
        for i in range(products)
    ]
    for i in range(requests):
        production_requests.create_request(
            db,
            ADMIN,
            {
                "product_id": made[i % products].id,
                "quantity": 5 + i % 7,
                "priority": 1 + i % 3,
                "earliest_start": MONDAY,
                "due": MONDAY + dt.timedelta(days=4),
            },
        )
    run = ScheduleRun(
        house_id=house.id,
        horizon_start=MONDAY.astimezone(dt.UTC),
        horizon_end=(MONDAY + dt.timedelta(days=7)).astimezone(dt.UTC),
        time_limit_seconds=2,
        status=RunStatus.queued,
        attempts=0,
    )
    db.add(run)
    db.flush()
    db.expire_all()  # the worker builds the problem in a session of its own
    return run


def _statements(db, connection, run: ScheduleRun) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        problem = solving.build_problem(db, run)
        db.flush()  # the run's policies (resolved) are written with its problem
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen), problem


def test_a_run_problem_for_40_machines_and_250_requests_costs_as_many_statements_as_for_one(
    db, connection, make_house, make_machine, make_member, make_product
):  # type: ignore[no-untyped-def]
    small = _house_with(db, make_house, make_machine, make_member, make_product, 1, 1, 1)
    big = _house_with(db, make_house, make_machine, make_member, make_product, 40, 250, 50)
    few, small_problem = _statements(db, connection, small)
    many, big_problem = _statements(db, connection, big)
    print(
        f"\n[budget] build_problem: {few} (1 machine, 1 request), {many} (40 machines, 250 requests)"
    )
    assert len(small_problem["jobs"]) == 1 and len(small_problem["machines"]) == 1
    assert len(big_problem["jobs"]) == 250 and len(big_problem["machines"]) == 40
    assert all(
        len(op["modes"]) in (20, 40) for job in big_problem["jobs"] for op in job["operations"]
    )
    assert few == many
