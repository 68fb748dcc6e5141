"""The plan's rules: one live financing per booking or request, the cluster's house and
accepted members only, and every broken rule named in one answer."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import ValidationFailed
from factoryshare.models import Role
from factoryshare.models.financing import LoanPlanLink, LoanStatus
from factoryshare.services import loans

ADMIN = Actor(user_id=None, role=Role.admin)
START = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)
ON = dt.date(2026, 1, 10)


@pytest.fixture()
def plan(
    db,
    make_house,
    make_machine,
    make_member,
    make_cluster,
    make_product,
    make_production_request,
    make_booking,
):
    house = make_house()
    machine = make_machine(house=house, capabilities=["sewing"], hourly_rate=80_000)
    chair = make_member(house=house, annual_turnover=900_000_000)
    other = make_member(house=house, annual_turnover=300_000_000)
    cluster = make_cluster(members=[chair, other], chair_member_id=chair.id, house_id=house.id)
    product = make_product(member=chair, routing=[("sewing", 30, 3)])
    request = make_production_request(product=product, quantity=10)
    booking = make_booking(
        machine=machine,
        member=other,
        start_at=START,
        end_at=START + dt.timedelta(hours=2),
        price=160_000,
        hourly_rate=80_000,
    )

    def application():
        return loans.create(
            db, ADMIN, cluster_id=cluster.id, requested_amount=1_000_000, tenor_months=12, on=ON
        )

    return {
        "house": house,
        "machine": machine,
        "chair": chair,
        "other": other,
        "cluster": cluster,
        "request": request,
        "booking": booking,
        "application": application,
    }


def test_a_booking_financed_by_another_live_application_is_refused_naming_it(db, plan):
    first, second = plan["application"](), plan["application"]()
    booking = plan["booking"]
    loans.set_plan(db, ADMIN, first.id, booking_ids=[booking.id])

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(db, ADMIN, second.id, booking_ids=[booking.id])
    (message,) = caught.value.errors["booking_ids[0]"]
    assert f"Booking {booking.id}" in message
    assert f"loan application {first.id}" in message and f"{second.id}" in message

    # Once the first application is rejected, the booking is free to be financed again.
    loans.submit(db, ADMIN, first.id)
    loans.reject(db, ADMIN, first.id, reason="Offtake not signed")
    loans.set_plan(db, ADMIN, second.id, booking_ids=[booking.id])
    assert [link.booking_id for link in loans.plan_links(db, ADMIN, second.id)] == [booking.id]


def test_a_request_financed_by_another_live_application_is_refused_naming_it(db, plan):
    first, second = plan["application"](), plan["application"]()
    request = plan["request"]
    loans.set_plan(db, ADMIN, first.id, production_request_ids=[request.id])
    loans.submit(db, ADMIN, first.id)

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(db, ADMIN, second.id, production_request_ids=[request.id])
    (message,) = caught.value.errors["production_request_ids[0]"]
    assert f"Production request {request.id}" in message and f"{first.id} (submitted)" in message


def test_a_booking_financed_twice_before_the_rule_is_refused_at_submit(db, plan):
    first, second = plan["application"](), plan["application"]()
    booking = plan["booking"]
    loans.set_plan(db, ADMIN, first.id, booking_ids=[booking.id])
    loans.set_plan(db, ADMIN, second.id, production_request_ids=[plan["request"].id])
    # A link made before one booking could finance one application only.
    db.add(LoanPlanLink(loan_application_id=second.id, booking_id=booking.id, linked_by="plan"))
    db.flush()

    with pytest.raises(ValidationFailed) as caught:
        loans.submit(db, ADMIN, second.id)
    assert f"loan application {first.id}" in caught.value.errors["booking_ids[0]"][0]
    assert second.status is LoanStatus.draft


def test_a_booking_at_another_house_than_the_clusters_is_refused(
    db, plan, make_house, make_machine, make_booking
):
    elsewhere = make_machine(house=make_house(name="Rumah Produksi Lain"), hourly_rate=50_000)
    booking = make_booking(
        machine=elsewhere,
        member=plan["other"],
        start_at=START,
        end_at=START + dt.timedelta(hours=1),
        price=50_000,
        hourly_rate=50_000,
    )
    app = plan["application"]()

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(db, ADMIN, app.id, booking_ids=[booking.id])
    (message,) = caught.value.errors["booking_ids[0]"]
    assert "Rumah Produksi Lain" in message and plan["house"].name in message


def test_a_request_at_another_house_than_the_clusters_is_refused(
    db, plan, make_house, make_production_request
):
    other_house = make_house(name="Rumah Produksi Seberang")
    request = make_production_request(product=plan["request"].product, quantity=5)
    request.house_id = other_house.id
    db.flush()
    app = plan["application"]()

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(db, ADMIN, app.id, production_request_ids=[request.id])
    assert "Rumah Produksi Seberang" in caught.value.errors["production_request_ids[0]"][0]


def test_a_plan_with_three_broken_rules_names_all_three(db, plan, make_member, make_booking):
    outsider_booking = make_booking(member=make_member())
    chair = plan["chair"]
    chair.npwp = None
    app = plan["application"]()

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(
            db,
            ADMIN,
            app.id,
            production_request_ids=[plan["request"].id],
            booking_ids=[outsider_booking.id],
            material_costs={chair.id: 600_000_000},
        )
    # The outsider's booking, the ceiling per member and the NPWP above Rp50 juta, at once.
    assert set(caught.value.errors) == {
        "booking_ids[0]",
        f"shares[{chair.id}].amount",
        f"shares[{chair.id}].npwp",
    }
