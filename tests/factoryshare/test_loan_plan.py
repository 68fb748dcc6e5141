"""A loan application built from the cluster's production plan: shares, cost estimate, KUR rules."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.models import Role
from factoryshare.services import loans

ADMIN = Actor(user_id=None, role=Role.admin)
VALID_NPWP = "013000666091000"
START = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


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
    make_machine(house=house, capabilities=["sewing"], hourly_rate=60_000)
    machine = make_machine(house=house, capabilities=["sewing"], hourly_rate=80_000)
    chair = make_member(house=house, npwp=VALID_NPWP, annual_turnover=900_000_000)
    other = make_member(house=house, annual_turnover=300_000_000)
    cluster = make_cluster(members=[chair, other], chair_member_id=chair.id, house_id=house.id)
    product = make_product(member=chair, routing=[("sewing", 30, 3)])
    request = make_production_request(product=product, quantity=100)  # 30 + 300 = 330 minutes
    booking = make_booking(
        machine=machine,
        member=other,
        start_at=START,
        end_at=START + dt.timedelta(hours=2),
        price=160_000,
        hourly_rate=80_000,
    )
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 10),
    )
    return {
        "app": app,
        "chair": chair,
        "other": other,
        "request": request,
        "booking": booking,
        "cluster": cluster,
        "house": house,
    }


def test_the_cost_estimate_is_booked_hours_times_rates_plus_declared_materials(db, plan):
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        booking_ids=[plan["booking"].id],
        material_costs={plan["chair"].id: 2_000_000, plan["other"].id: 500_000},
    )

    shares = {s.member_id: s for s in loans.shares(db, ADMIN, plan["app"].id)}
    chair, other = shares[plan["chair"].id], shares[plan["other"].id]
    # 330 minutes at the cheapest sewing machine (Rp60.000 an hour) = Rp330.000
    assert (chair.machine_minutes, chair.machine_cost, chair.material_cost) == (
        330,
        330_000,
        2_000_000,
    )
    assert (other.machine_minutes, other.machine_cost, other.amount) == (120, 160_000, 660_000)
    assert plan["app"].requested_amount == 2_330_000 + 660_000
    links = loans.plan_links(db, ADMIN, plan["app"].id)
    assert {(link.production_request_id, link.booking_id) for link in links} == {
        (plan["request"].id, None),
        (None, plan["booking"].id),
    }


def test_a_plan_names_every_rule_it_breaks(db, plan, make_member, make_booking):
    outsider_booking = make_booking(member=make_member())
    plan["other"].annual_turnover = 5_000_000_000
    plan["chair"].npwp = None

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(
            db,
            ADMIN,
            plan["app"].id,
            production_request_ids=[plan["request"].id],
            booking_ids=[outsider_booking.id],
            material_costs={plan["chair"].id: 600_000_000},
        )
    assert "booking_ids[0]" in caught.value.errors

    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(
            db,
            ADMIN,
            plan["app"].id,
            booking_ids=[plan["booking"].id],
            production_request_ids=[plan["request"].id],
            material_costs={plan["chair"].id: 600_000_000},
        )
    chair, other = plan["chair"].id, plan["other"].id
    assert set(caught.value.errors) == {
        f"shares[{chair}].amount",
        f"shares[{chair}].npwp",
        f"shares[{other}].annual_turnover",
    }


def test_an_invalid_npwp_above_fifty_million_is_named(db, plan):
    plan["chair"].npwp = "013000667091000"
    with pytest.raises(ValidationFailed) as caught:
        loans.set_plan(
            db,
            ADMIN,
            plan["app"].id,
            production_request_ids=[plan["request"].id],
            material_costs={plan["chair"].id: 60_000_000},
        )
    assert "not valid" in caught.value.errors[f"shares[{plan['chair'].id}].npwp"][0]


def test_a_rule_broken_after_the_plan_was_built_stops_the_submission(db, plan):
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        material_costs={plan["chair"].id: 60_000_000},
    )
    plan["chair"].npwp = None
    with pytest.raises(ValidationFailed) as caught:
        loans.submit(db, ADMIN, plan["app"].id)
    assert f"shares[{plan['chair'].id}].npwp" in caught.value.errors


def test_the_cluster_total_may_pass_one_members_ceiling_when_each_share_is_within_it(db, plan):
    plan["other"].npwp = VALID_NPWP
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        booking_ids=[plan["booking"].id],
        material_costs={plan["chair"].id: 400_000_000, plan["other"].id: 400_000_000},
    )
    assert plan["app"].requested_amount > 500_000_000
    assert loans.submit(db, ADMIN, plan["app"].id).status.value == "submitted"


def test_a_member_sees_only_its_own_share_and_only_the_chair_builds_the_plan(db, plan):
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        booking_ids=[plan["booking"].id],
    )
    other = Actor(user_id=None, role=Role.member, member_id=plan["other"].id)

    assert [s.member_id for s in loans.shares(db, other, plan["app"].id)] == [plan["other"].id]
    assert [link.booking_id for link in loans.plan_links(db, other, plan["app"].id)] == [
        plan["booking"].id
    ]
    with pytest.raises(Forbidden):
        loans.set_plan(db, other, plan["app"].id, booking_ids=[plan["booking"].id])


def test_the_aggregator_and_the_houses_manager_see_every_members_share_and_link(db, plan):
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        booking_ids=[plan["booking"].id],
    )
    aggregator = Actor(
        user_id=None, role=Role.aggregator, aggregator_id=plan["cluster"].aggregator_id
    )
    manager = Actor(user_id=None, role=Role.manager, house_ids=frozenset({plan["house"].id}))

    for actor in (aggregator, manager):
        assert {s.member_id for s in loans.shares(db, actor, plan["app"].id)} == {
            plan["chair"].id,
            plan["other"].id,
        }
        assert {
            (link.production_request_id, link.booking_id)
            for link in loans.plan_links(db, actor, plan["app"].id)
        } == {(plan["request"].id, None), (None, plan["booking"].id)}


def test_a_submitted_plan_cannot_be_rebuilt(db, plan):
    loans.set_plan(db, ADMIN, plan["app"].id, production_request_ids=[plan["request"].id])
    loans.submit(db, ADMIN, plan["app"].id)
    with pytest.raises(Conflict):
        loans.set_plan(db, ADMIN, plan["app"].id, production_request_ids=[plan["request"].id])


def test_a_planned_application_may_be_edited_above_one_members_ceiling(db, plan):
    plan["other"].npwp = VALID_NPWP
    loans.set_plan(
        db,
        ADMIN,
        plan["app"].id,
        production_request_ids=[plan["request"].id],
        material_costs={plan["chair"].id: 300_000_000, plan["other"].id: 300_000_000},
    )
    app = loans.update(db, ADMIN, plan["app"].id, requested_amount=550_000_000)
    assert app.requested_amount == 550_000_000
