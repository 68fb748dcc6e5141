"""Statement budgets: what an endpoint costs in SQL statements does not grow with the data.

Each test counts the statements the app sends (an SQLAlchemy `before_cursor_execute`
listener on the test's connection) for one request on a small house and on a house of 20
machines and 200 bookings, and fails when the count differs, or when a booking costs more
than its budget. Counts, never timings: they are the same on every run and every machine.

The test's own transaction shows in the count as SAVEPOINT / RELEASE SAVEPOINT where the app
would say BEGIN / COMMIT; those are left out (`_counted`), the booking's own savepoint
(bookings.flush_guarded) is counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import loans
from tests.factories.bookings import at, working_day
from tests.factories.financing import ADMIN

# A booking POST: the sign-in lookup, the machine, the house's row locked with its calendar
# read, the overlap check, the booking's savepoint, insert and release... at most this many.
BOOKING_POST_BUDGET = 6

BIG_MACHINES, BIG_BOOKINGS = 20, 200


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    @property
    def counted(self) -> list[str]:
        return _counted(self.statements)


def _counted(statements: list[str]) -> list[str]:
    """Without the transaction's own bracket: the first SAVEPOINT (the app's BEGIN in a test)
    and the last RELEASE (its COMMIT)."""
    kept = list(statements)
    if kept and kept[0].startswith("SAVEPOINT"):
        name = kept[0].split()[1]
        kept.pop(0)
        for i in range(len(kept) - 1, -1, -1):
            if kept[i].startswith(("RELEASE SAVEPOINT " + name, "ROLLBACK TO SAVEPOINT " + name)):
                kept.pop(i)
                break
    return kept


@pytest.fixture()
def count_statements(connection: Connection) -> Callable[[], Any]:
    @contextmanager
    def counting() -> Iterator[Counter]:
        counter = Counter()
        event.listen(connection, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", counter)

    return counting


@pytest.fixture()
def make_busy_house(db, make_house, make_machine, make_member):  # type: ignore[no-untyped-def]
    """A house with `machines` machines (each sewing and one of three other capabilities), three
    members and `bookings` one-hour bookings spread over the machines from a week ahead on."""

    def make(machines: int, bookings: int) -> dict[str, Any]:
        house = make_house()
        ms = [
            make_machine(house=house, capabilities=["sewing", f"cap_h{house.id}_{i % 3}"])
            for i in range(machines)
        ]
        members = [make_member(house_id=house.id) for _ in range(3)]
        ahead, hour, made = 7, 8, 0
        day = working_day(ahead)
        while made < bookings:
            for m in ms[: bookings - made]:
                db.add(
                    Booking(
                        machine_id=m.id,
                        member_id=members[made % 3].id,
                        start_at=at(day, f"{hour:02d}:00"),
                        end_at=at(day, f"{hour + 1:02d}:00"),
                        status=BookingStatus.confirmed,
                        price=50_000,
                        hourly_rate=50_000,
                        note="",
                    )
                )
                made += 1
            hour += 1
            if hour == 16:
                hour, ahead = 8, ahead + 1
                day = working_day(ahead)
        db.flush()
        return {"house": house, "machines": ms, "members": members}

    return make


def _small_and_big(make_busy_house) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [make_busy_house(1, 1), make_busy_house(BIG_MACHINES, BIG_BOOKINGS)]


FREE_DAY = 30  # days ahead: after every booking of the busy house, within max_days_ahead


def test_a_booking_costs_the_same_few_statements_in_a_busy_house_as_in_a_quiet_one(
    client, make_user, token_for, make_busy_house, count_statements
):  # type: ignore[no-untyped-def]
    day = working_day(FREE_DAY)
    counts = []
    for house in _small_and_big(make_busy_house):
        member = house["members"][0]
        headers = token_for(make_user(Role.member, member=member))
        machine = house["machines"][-1]
        with count_statements() as counter:
            r = client.post(
                "/api/v1/bookings",
                headers=headers,
                json={
                    "machine_id": machine.id,
                    "start": at(day, "09:00").isoformat(),
                    "end": at(day, "11:00").isoformat(),
                },
            )
        assert r.status_code == 201, r.get_json()
        counts.append(len(counter.counted))
        report("POST /bookings", counts[-1], counter.counted)
    assert counts[0] == counts[1]
    assert counts[1] <= BOOKING_POST_BUDGET, counts


def test_availability_of_all_machines_of_a_house_costs_the_same_statements_for_20_machines_as_for_one(
    client, make_user, token_for, make_busy_house, count_statements
):  # type: ignore[no-untyped-def]
    start, end = at(working_day(7), "00:00"), at(working_day(14), "00:00")
    counts = []
    for house in _small_and_big(make_busy_house):
        headers = token_for(make_user(Role.member, member=house["members"][0]))
        with count_statements() as counter:
            r = client.get(
                f"/api/v1/houses/{house['house'].id}/availability",
                headers=headers,
                query_string={"start": start.isoformat(), "end": end.isoformat()},
            )
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()["machines"]) == len(house["machines"])
        counts.append(len(counter.counted))
        report("GET /houses/<id>/availability", counts[-1], counter.counted)
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", [Role.admin, Role.manager, Role.member])
def test_a_page_of_bookings_costs_the_same_statements_whatever_the_page_size_and_the_data(
    client, make_user, token_for, make_busy_house, count_statements, role
):  # type: ignore[no-untyped-def]
    counts = []
    for house, size in zip(_small_and_big(make_busy_house), (1, 100)):
        if role is Role.manager:
            user = make_user(Role.manager, houses=[house["house"]])
        elif role is Role.member:
            user = make_user(Role.member, member=house["members"][0])
        else:
            user = make_user(Role.admin)
        headers = token_for(user)
        with count_statements() as counter:
            r = client.get(
                "/api/v1/bookings",
                headers=headers,
                query_string={"house_id": house["house"].id, "page_size": size},
            )
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()["items"]) == min(size, r.get_json()["total"])
        counts.append(len(counter.counted))
        report(f"GET /bookings ({role.value}, page of {size})", counts[-1], counter.counted)
    assert counts[0] == counts[1]


def _requests(db, make_production_request, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        make_production_request()


def _runs(db, make_house, n):  # type: ignore[no-untyped-def]
    from factoryshare.models.scheduling import RunStatus, ScheduleRun

    start = at(working_day(7), "00:00")
    for _ in range(n):
        db.add(
            ScheduleRun(
                house_id=make_house().id,
                horizon_start=start,
                horizon_end=start + dt.timedelta(days=5),
                time_limit_seconds=2,
                status=RunStatus.queued,
                attempts=0,
            )
        )
    db.flush()


def _audit(db, make_house, n):  # type: ignore[no-untyped-def]
    from factoryshare.models import AuditEvent

    for i in range(n):
        db.add(
            AuditEvent(
                action="booking.created",
                object_type="bookings",
                object_id=str(i + 1),
                before=None,
                after={"id": i + 1},
                house_id=make_house().id,
            )
        )
    db.flush()


def _permits(db, make_food_product, make_permit, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        make_permit(make_food_product(), "pirt")


LISTS = {
    "/api/v1/production-requests": lambda f, n: _requests(f["db"], f["make_production_request"], n),
    "/api/v1/schedule-runs": lambda f, n: _runs(f["db"], f["make_house"], n),
    "/api/v1/audit": lambda f, n: _audit(f["db"], f["make_house"], n),
    "/api/v1/permits": lambda f, n: _permits(f["db"], f["make_food_product"], f["make_permit"], n),
}


@pytest.mark.parametrize("url", sorted(LISTS))
def test_a_page_of_any_list_costs_the_same_statements_for_one_item_as_for_thirty(
    client,
    db,
    make_user,
    token_for,
    count_statements,
    make_production_request,
    make_house,
    make_food_product,
    make_permit,
    url,
):  # type: ignore[no-untyped-def]
    headers = token_for(make_user(Role.admin))
    fixtures = {
        "db": db,
        "make_production_request": make_production_request,
        "make_house": make_house,
        "make_food_product": make_food_product,
        "make_permit": make_permit,
    }
    counts = []
    for made, size in ((1, 1), (30, 30)):
        LISTS[url](fixtures, made)
        with count_statements() as counter:
            r = client.get(url, headers=headers, query_string={"page_size": size})
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()["items"]) == size
        counts.append(len(counter.counted))
        report(f"GET {url[7:]} (page of {size})", counts[-1], counter.counted)
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", [Role.admin, Role.aggregator, Role.member])
def test_a_page_of_loans_costs_the_same_statements_for_one_loan_as_for_thirty(
    client, db, make_user, token_for, make_member, make_cluster, make_loan, count_statements, role
):  # type: ignore[no-untyped-def]
    member = make_member()
    cluster = make_cluster(members=[member], chair_member_id=member.id)
    if role is Role.member:
        user = make_user(Role.member, member=member)
    elif role is Role.aggregator:
        user = make_user(Role.aggregator, aggregator=cluster.aggregator)
    else:
        user = make_user(Role.admin)
    headers = token_for(user)
    counts = []
    for made, size in ((1, 1), (29, 30)):
        for _ in range(made):
            app = make_loan(cluster, amount=12_000_000, first_tranche=6_000_000)
            loans.add_tranche(db, ADMIN, app.id, 6_000_000, on=dt.date(2026, 1, 15))
            first = loans.installments(db, ADMIN, app.id)[0]
            loans.record_repayment(db, ADMIN, app.id, 1, first.amount, on=first.due_date)
        with count_statements() as counter:
            r = client.get("/api/v1/loans", headers=headers, query_string={"page_size": size})
        assert r.status_code == 200, r.get_json()
        page = r.get_json()["items"]
        assert len(page) == size
        assert {x["disbursed"] for x in page} == {12_000_000}
        assert {x["installments"][0]["status"] for x in page} == {"paid"}
        counts.append(len(counter.counted))
        report(f"GET /loans ({role.value}, page of {size})", counts[-1], counter.counted)
    # A loan on the page reads as it does on its own.
    one = client.get(f"/api/v1/loans/{page[-1]['id']}", headers=headers)
    assert one.status_code == 200 and one.get_json() == page[-1]
    assert counts[0] == counts[1]


def test_the_bookings_list_shows_upcoming_bookings_first_soonest_first_then_past_ones_latest_first(
    clock, client, db, make_user, token_for, make_machine, make_member, count_statements
):  # type: ignore[no-untyped-def]
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    starts = {"past_3": -72, "past_1": -24, "past_2": -48, "now": -1, "soon": 24, "later": 48}
    ids = {}
    for name, hours in starts.items():
        b = Booking(
            machine_id=machine.id,
            member_id=member.id,
            start_at=now + dt.timedelta(hours=hours),
            end_at=now + dt.timedelta(hours=hours + 2),
            status=BookingStatus.confirmed,
            price=100_000,
            hourly_rate=50_000,
            note="",
        )
        db.add(b)
        db.flush()
        ids[b.id] = name
    headers = token_for(make_user(Role.member, member=member))
    seen, counts = [], []
    for page in (1, 2, 3, 4):
        with count_statements() as counter:
            r = client.get(
                "/api/v1/bookings", headers=headers, query_string={"page": page, "page_size": 2}
            )
        assert r.status_code == 200
        assert r.get_json()["total"] == 6
        seen.append([ids[b["id"]] for b in r.get_json()["items"]])
        counts.append(len(counter.counted))
    # The one under way is not over: it comes first; a page may hold both parts.
    assert seen == [["now", "soon"], ["later", "past_1"], ["past_2", "past_3"], []]
    assert max(counts) <= 4


def report(name: str, count: int, statements: list[str]) -> None:
    print(f"\n[budget] {name}: {count}")
    for s in statements:
        print("   ", " ".join(s.split())[:150])
