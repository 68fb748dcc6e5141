"""Every list of the API costs the same SQL statements for a page of one item as for a page of
eight, each item of a different parent (house, machine, member, cluster), so that a relation a
schema reads per item would show as more statements. The lists measured in
test_statement_budgets.py and test_list_envelopes.py are named there; a new list in the
OpenAPI without a measurement here or there fails `test_every_list_of_the_api_is_measured`."""

# ruff: noqa: F811  (the imported count_statements fixture is a test parameter)
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from factoryshare.models import Role
from factoryshare.models.booking_extras import BookingSeries, WaitlistEntry
from factoryshare.models.jobs import JobRun, JobStatus
from factoryshare.models.members import ClusterInvitation
from factoryshare.models.notifications import Notification
from factoryshare.models.scheduling import RunStatus, ScheduleRun
from tests.api.test_statement_budgets import count_statements, report  # noqa: F401
from tests.factories.bookings import at, working_day

# Lists whose statements other tests count (test_statement_budgets.py, test_list_envelopes.py).
MEASURED_ELSEWHERE = {
    "/api/v1/audit",
    "/api/v1/bookings",
    "/api/v1/houses/{house_id}/closures",
    "/api/v1/kur-schemes",
    "/api/v1/loan-applications",
    "/api/v1/loan-applications/{application_id}/decisions",
    "/api/v1/loan-applications/{application_id}/installments",
    "/api/v1/loan-applications/{application_id}/tranches",
    "/api/v1/loans",
    "/api/v1/offtake-agreements",
    "/api/v1/offtake-agreements/{agreement_id}/purchases",
    "/api/v1/permit-requirements",
    "/api/v1/permit-types",
    "/api/v1/permits",
    "/api/v1/permits/overrides",
    "/api/v1/production-requests",
    "/api/v1/schedule-runs",
}


class World:
    """What a seeder may use: the factories, the session, the signed-in admin and one house."""

    def __init__(self, fixtures: dict[str, Any]) -> None:
        self.__dict__.update(fixtures)


def _series(w: World) -> None:
    machine = w.make_machine()
    day = working_day(7)
    w.db.add(
        BookingSeries(
            machine_id=machine.id,
            member_id=w.make_member(house_id=machine.house_id).id,
            first_date=day,
            last_date=day + dt.timedelta(days=21),
            start_time=dt.time(9),
            end_time=dt.time(10),
        )
    )


def _waitlist(w: World) -> None:
    machine = w.make_machine()
    day = working_day(7)
    w.db.add(
        WaitlistEntry(
            machine_id=machine.id,
            member_id=w.make_member(house_id=machine.house_id).id,
            start_at=at(day, "09:00"),
            end_at=at(day, "10:00"),
        )
    )


def _invitation(w: World) -> None:
    cluster = w.make_cluster(members=[w.make_member()])
    w.db.add(ClusterInvitation(cluster_id=cluster.id, member_id=w.make_member().id))


def _house_run(w: World) -> None:
    start = at(working_day(7), "00:00")
    w.db.add(
        ScheduleRun(
            house_id=w.house.id,
            horizon_start=start,
            horizon_end=start + dt.timedelta(days=5),
            time_limit_seconds=2,
            status=RunStatus.queued,
            attempts=0,
        )
    )


def _job_run(w: World) -> None:
    now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    w.db.add(
        JobRun(
            job="expire_holds",
            started_at=now,
            finished_at=now,
            status=JobStatus.succeeded,
            counts={"expired": 0},
            host="test",
        )
    )


def _notification(w: World) -> None:
    w.db.add(
        Notification(
            user_id=w.admin.id,
            template="booking_confirmed",
            language="id",
            subject="Pemesanan dikonfirmasi",
            body="Pemesanan Anda dikonfirmasi.",
            context={},
        )
    )


SEEDERS: dict[str, Callable[[World], Any]] = {
    "/api/v1/aggregators": lambda w: w.make_aggregator(),
    "/api/v1/booking-series": _series,
    "/api/v1/capabilities": lambda w: w.make_capability(),
    "/api/v1/cluster-invitations": _invitation,
    "/api/v1/clusters": lambda w: w.make_cluster(members=[w.make_member(), w.make_member()]),
    "/api/v1/clusters/exposure": lambda w: w.make_loan(
        w.make_cluster(members=[w.make_member()]), first_tranche=10_000_000
    ),
    "/api/v1/downtimes": lambda w: w.make_downtime(),
    "/api/v1/houses": lambda w: w.make_house(),
    "/api/v1/houses/{house_id}/schedule-runs": _house_run,
    "/api/v1/job-runs": _job_run,
    "/api/v1/lenders": lambda w: w.make_lender(),
    "/api/v1/machines": lambda w: w.make_machine(capabilities=["sewing", "cutting"]),
    "/api/v1/members": lambda w: w.make_member(),
    "/api/v1/notifications": _notification,
    "/api/v1/products": lambda w: w.make_product(routing=[("sewing", 10, 2), ("cutting", 5, 1)]),
    "/api/v1/users": lambda w: w.make_user(Role.manager, houses=[w.make_house()]),
    "/api/v1/waitlist": _waitlist,
}


@pytest.fixture()
def world(
    db,
    make_user,
    make_house,
    make_machine,
    make_member,
    make_product,
    make_capability,
    make_cluster,
    make_aggregator,
    make_lender,
    make_downtime,
    make_loan,
):  # type: ignore[no-untyped-def]
    fixtures = {k: v for k, v in locals().items()}
    fixtures["admin"] = make_user(Role.admin)
    fixtures["house"] = make_house()
    return World(fixtures)


@pytest.mark.parametrize("path", sorted(SEEDERS))
def test_a_page_of_the_list_costs_the_same_statements_for_one_item_as_for_eight(
    client, token_for, count_statements, world, path
):  # type: ignore[no-untyped-def]
    headers = token_for(world.admin)
    url = path.replace("{house_id}", str(world.house.id))
    counts = []
    for made, size in ((1, 1), (7, 8)):
        for _ in range(made):
            SEEDERS[path](world)
        world.db.flush()
        with count_statements() as counter:
            r = client.get(url, headers=headers, query_string={"page_size": size})
        assert r.status_code == 200, r.get_json()
        assert len(r.get_json()["items"]) == size, r.get_json()
        counts.append(len(counter.counted))
        report(f"GET {url[7:]} (page of {size})", counts[-1], counter.counted)
    assert counts[0] == counts[1], counts


def test_every_list_of_the_api_is_measured(client):  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    lists = {
        path
        for path, operations in spec["paths"].items()
        if "get" in operations
        and "Page" in json.dumps(operations["get"].get("responses", {}).get("200", {}))
    }
    assert lists, "the OpenAPI document lists no page of anything"
    assert lists - set(SEEDERS) - MEASURED_ELSEWHERE == set()
    # And nothing named here that the API no longer lists.
    assert (set(SEEDERS) | MEASURED_ELSEWHERE) - lists == set()
