"""Permit numbers, derived states on boundary dates, and the production gate."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.models import Role, Sector
from factoryshare.models.permits import PermitStatus
from factoryshare.services import permits
from tests.factories.bookings import at, working_day

UTC = dt.UTC


# -- numbers ----------------------------------------------------------------------------------


def test_a_pirt_number_is_fifteen_digits_written_with_a_dash_before_the_expiry_year():
    assert permits.validate_number("pirt", "P-IRT No. 2320101020123 29") == "2320101020123-29"
    assert (
        permits.validate_number("pirt", "232010102012329", dt.date(2029, 5, 1))
        == "2320101020123-29"
    )


@pytest.mark.parametrize("number", ["232010102012", "23201010201232x", "2320101020123-299"])
def test_a_pirt_number_of_the_wrong_length_is_refused(number):
    with pytest.raises(ValidationFailed) as err:
        permits.validate_number("pirt", number)
    assert "number" in err.value.errors


def test_a_pirt_number_whose_last_two_digits_disagree_with_the_expiry_date_is_refused():
    with pytest.raises(ValidationFailed) as err:
        permits.validate_number("pirt", "2320101020123-29", dt.date(2030, 1, 10))
    assert set(err.value.errors) == {"number", "expires_on"}
    assert "2030" in err.value.errors["expires_on"][0]


def test_bpom_md_and_ml_numbers_are_normalised_and_their_prefix_must_match_the_type():
    assert (
        permits.validate_number("bpom_md", "bpom ri md 224510001234") == "BPOM RI MD 224510001234"
    )
    assert permits.validate_number("bpom_ml", "ML 224510001234567") == "BPOM RI ML 224510001234567"
    for code, number in (
        ("bpom_md", "BPOM RI ML 224510001234"),
        ("bpom_md", "MD 12345"),
        ("bpom_ml", "224510001234"),
    ):
        with pytest.raises(ValidationFailed):
            permits.validate_number(code, number)


def test_a_halal_certificate_number_is_id_and_seventeen_digits():
    assert permits.validate_number("halal", "id3211 0000 1234 50124") == "ID32110000123450124"
    assert permits.validate_number("halal", "00150012345678") == "00150012345678"  # old MUI
    with pytest.raises(ValidationFailed):
        permits.validate_number("halal", "ID321100001234")


def test_a_nib_is_thirteen_digits_and_a_trademark_number_is_idm_and_nine_digits():
    assert permits.validate_number("nib", "9120 0012 3456 7") == "9120001234567"
    with pytest.raises(ValidationFailed):
        permits.validate_number("nib", "91200012345")
    assert permits.validate_number("trademark", "IDM000123456") == "IDM000123456"
    assert permits.validate_number("trademark", "DID2024012345") == "DID2024012345"
    with pytest.raises(ValidationFailed):
        permits.validate_number("trademark", "IDM12")


# -- creating permits -------------------------------------------------------------------------


def _manager_of(product, make_user, db):
    from factoryshare.models import Member, ProductionHouse

    member = db.get(Member, product.member_id)
    user = make_user(Role.manager, houses=[db.get(ProductionHouse, member.house_id)])
    return Actor.of(user)


def test_a_halal_certificate_takes_no_expiry_date(db, make_food_product, make_user):
    product = make_food_product()
    actor = _manager_of(product, make_user, db)
    with pytest.raises(ValidationFailed) as err:
        permits.create_permit(
            db,
            actor,
            {
                "product_id": product.id,
                "permit_type": "halal",
                "number": "ID32110000123450124",
                "issued_on": dt.date(2025, 1, 1),
                "expires_on": dt.date(2029, 1, 1),
            },
        )
    assert "expires_on" in err.value.errors
    permit = permits.create_permit(
        db,
        actor,
        {
            "product_id": product.id,
            "permit_type": "halal",
            "number": "ID32110000123450124",
            "issued_on": dt.date(2025, 1, 1),
        },
    )
    assert permits.state(db, permit) == "valid"


def test_a_pirt_permit_longer_than_five_years_is_refused(db, make_food_product, make_user):
    product = make_food_product()
    actor = _manager_of(product, make_user, db)
    with pytest.raises(ValidationFailed) as err:
        permits.create_permit(
            db,
            actor,
            {
                "product_id": product.id,
                "permit_type": "pirt",
                "number": "2320101020123-31",
                "issued_on": dt.date(2025, 1, 1),
                "expires_on": dt.date(2031, 1, 1),
            },
        )
    assert "expires_on" in err.value.errors


def test_a_pending_application_may_have_no_number_yet(db, make_food_product, make_user):
    product = make_food_product()
    actor = _manager_of(product, make_user, db)
    permit = permits.create_permit(
        db, actor, {"product_id": product.id, "permit_type": "bpom_md", "status": "pending"}
    )
    assert permits.state(db, permit) == "pending"


def test_a_nib_belongs_to_the_business_not_to_a_product(db, make_food_product, make_user):
    product = make_food_product()
    actor = _manager_of(product, make_user, db)
    with pytest.raises(ValidationFailed) as err:
        permits.create_permit(
            db,
            actor,
            {
                "product_id": product.id,
                "permit_type": "nib",
                "number": "9120001234567",
                "issued_on": dt.date(2024, 1, 1),
            },
        )
    assert "product_id" in err.value.errors
    permit = permits.create_permit(
        db,
        actor,
        {
            "member_id": product.member_id,
            "permit_type": "nib",
            "number": "9120001234567",
            "issued_on": dt.date(2024, 1, 1),
        },
    )
    assert permit.product_id is None


def test_an_aggregator_may_not_add_a_permit(db, make_food_product, make_user, make_cluster):
    from factoryshare.errors import Forbidden
    from factoryshare.models import Member

    product = make_food_product()
    user = make_user(Role.aggregator)
    make_cluster(aggregator_id=user.aggregator_id, members=[db.get(Member, product.member_id)])
    with pytest.raises(Forbidden):
        permits.create_permit(
            db,
            Actor.of(user),
            {
                "product_id": product.id,
                "permit_type": "halal",
                "number": "ID32110000123450124",
                "issued_on": dt.date(2025, 1, 1),
            },
        )


# -- derived state on boundary dates ----------------------------------------------------------


def test_the_state_follows_the_renewal_window_and_the_expiry_day(
    db, make_food_product, make_permit
):
    product = make_food_product()
    permit = make_permit(
        product, "pirt", issued_on=dt.date(2025, 3, 1), expires_on=dt.date(2030, 3, 1)
    )
    assert permits.state_on(permit, dt.date(2029, 11, 30)) == "valid"  # 91 days left
    assert permits.state_on(permit, dt.date(2029, 12, 1)) == "expiring"  # 90 days left
    assert permits.state_on(permit, dt.date(2030, 3, 1)) == "expiring"  # last valid day
    assert permits.state_on(permit, dt.date(2030, 3, 2)) == "expired"


def test_the_expiry_day_ends_at_midnight_house_time_not_utc(
    db, make_food_product, make_permit, make_house
):
    house = make_house(timezone="Asia/Jayapura")  # WIT, UTC+9
    from factoryshare.models import Member

    member = Member(
        house_id=house.id,
        business_name="UD Papua",
        nib="9120009999991",
        owner_name="Yakob",
        owner_nik="9171010101900001",
        sector=Sector.culinary,
    )
    db.add(member)
    db.flush()
    product = make_food_product(member=member)
    permit = make_permit(
        product, "pirt", issued_on=dt.date(2025, 3, 1), expires_on=dt.date(2030, 3, 1)
    )
    # 1 March 2030 14:59 UTC is 23:59 WIT: still valid; 15:00 UTC is 2 March in Jayapura.
    assert permits.state(db, permit, dt.datetime(2030, 3, 1, 14, 59, tzinfo=UTC)) == "expiring"
    assert permits.state(db, permit, dt.datetime(2030, 3, 1, 15, 0, tzinfo=UTC)) == "expired"
    assert permits.lapse_moment(house, permit.expires_on) == dt.datetime(
        2030, 3, 1, 15, 0, tzinfo=UTC
    )


def test_a_halal_certificate_without_expiry_stays_valid_and_a_reviewed_one_does_not(
    db, make_food_product, make_permit
):
    product = make_food_product()
    halal = make_permit(product, "halal")
    assert permits.state_on(halal, dt.date(2099, 1, 1)) == "valid"
    halal.status = PermitStatus.needs_review
    assert permits.state_on(halal, dt.date(2026, 1, 1)) == "needs_review"


# -- requirements and the gate ----------------------------------------------------------------


def _span(days_ahead: int = 10) -> tuple[dt.datetime, dt.datetime]:
    day = working_day(days_ahead)
    return at(day, "08:00"), at(day, "10:00")


def test_a_fashion_product_needs_no_permit(db, make_product):
    product = make_product()
    assert permits.check_gate(db, product, *_span()) == []


def test_processed_food_needs_pirt_or_bpom_and_halal(db, make_food_product):
    product = make_food_product()
    groups = permits.requirements_for(db, product)
    assert {g: sorted(t.code for t in ts) for g, ts in groups.items()} == {
        "food_registration": ["bpom_md", "bpom_ml", "pirt"],
        "halal": ["halal"],
    }


def test_a_non_halal_product_is_not_asked_for_a_halal_certificate(db, make_food_product):
    product = make_food_product(family="non_halal")
    assert set(permits.requirements_for(db, product)) == {"food_registration"}


def test_the_gate_lists_each_missing_requirement(db, make_food_product):
    product = make_food_product()
    missing = permits.check_gate(db, product, *_span())
    assert sorted(m["group"] for m in missing) == ["food_registration", "halal"]
    assert all(m["problem"] == "missing" for m in missing)


def test_the_refusal_names_the_permits_that_would_each_do_in_the_readers_language(
    db, make_food_product, make_permit
):
    from factoryshare import i18n

    product = make_food_product()
    make_permit(product, "halal")
    with pytest.raises(Conflict) as refused:
        permits.require_permits(db, product, *_span())
    said = {lang: i18n.translate(refused.value.errors, lang) for lang in ("id", "en")}
    registration = {lang: words["permits.food_registration"][0] for lang, words in said.items()}
    assert " atau " in registration["id"] and " or " not in registration["id"], registration
    assert " or " in registration["en"], registration


def test_either_pirt_or_bpom_md_satisfies_the_food_registration(db, make_food_product, make_permit):
    product = make_food_product()
    make_permit(product, "halal")
    make_permit(product, "bpom_md", number="BPOM RI MD 224510001234")
    assert permits.check_gate(db, product, *_span()) == []


def test_a_permit_lapsing_during_the_booked_time_is_named_with_its_last_day(
    db, make_food_product, make_permit
):
    product = make_food_product()
    make_permit(product, "halal")
    start, end = _span(10)
    local_day = start.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    make_permit(product, "pirt", expires_on=local_day)
    # Ends on its last valid day: fine; a booking into the next day is not.
    assert permits.check_gate(db, product, start, end) == []
    missing = permits.check_gate(db, product, start, end + dt.timedelta(days=1))
    assert missing[0]["problem"] == "lapses" and missing[0]["lapse_on"] == local_day.isoformat()


def test_pending_and_expired_permits_do_not_satisfy_the_gate(db, make_food_product, make_permit):
    product = make_food_product()
    make_permit(product, "halal")
    make_permit(product, "pirt", status=PermitStatus.pending, number="", issued_on=None)
    make_permit(
        product,
        "bpom_md",
        number="BPOM RI MD 224510001234",
        issued_on=dt.date(2020, 1, 1),
        expires_on=dt.date(2024, 12, 31),
    )
    (gap,) = permits.check_gate(db, product, *_span())
    assert gap["group"] == "food_registration" and gap["lapse_on"] == "2024-12-31"


def test_require_permits_answers_permit_missing_with_each_gap(db, make_food_product, make_permit):
    product = make_food_product()
    make_permit(product, "halal")
    with pytest.raises(Conflict) as err:
        permits.require_permits(db, product, *_span())
    assert err.value.code == "permit_missing"
    assert list(err.value.errors) == ["permits.food_registration"]
    assert "P-IRT" in err.value.errors["permits.food_registration"][0]


def test_a_manager_override_covering_the_booked_time_lets_the_gate_pass(
    db, make_food_product, make_user
):
    product = make_food_product()
    actor = _manager_of(product, make_user, db)
    start, end = _span()
    override = permits.create_override(
        db,
        actor,
        {
            "product_id": product.id,
            "reason": "P-IRT sedang diproses dinas",
            "until": end + dt.timedelta(days=1),
        },
    )
    assert permits.check_gate(db, product, start, end) == []
    from sqlalchemy import select

    from factoryshare.models import AuditEvent

    actions = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "permit_overrides", AuditEvent.object_id == str(override.id)
        )
    ).all()
    assert actions == ["permit_override.created"]
    permits.revoke_override(db, actor, override.id)
    assert permits.check_gate(db, product, start, end) != []


def test_a_member_may_not_override_its_own_permits(db, make_food_product, make_user):
    from factoryshare.errors import Forbidden

    product = make_food_product()
    user = make_user(Role.member, member_id=product.member_id)
    with pytest.raises(Forbidden):
        permits.create_override(
            db,
            Actor.of(user),
            {"product_id": product.id, "reason": "tolong ya", "until": _span()[1]},
        )


def test_a_business_requirement_for_nib_is_met_by_the_members_nib_on_record(db, make_product):
    from factoryshare.models.permits import PermitRequirement
    from tests.factories.permits import permit_type

    product = make_product()
    db.add(
        PermitRequirement(
            permit_type_id=permit_type(db, "nib").id, product_id=product.id, one_of="nib"
        )
    )
    db.flush()
    assert permits.check_gate(db, product, *_span()) == []


def test_the_production_deadline_is_the_lapse_of_the_first_permit_to_lapse(
    clock, db, make_food_product, make_permit, make_house
):
    product = make_food_product()
    make_permit(product, "halal")
    permit = make_permit(product, "pirt", expires_on=clock.today() + dt.timedelta(days=20))
    start = clock.now()
    from factoryshare.models import Member, ProductionHouse

    house = db.get(ProductionHouse, db.get(Member, product.member_id).house_id)
    assert permits.production_deadline(db, product, start) == permits.lapse_moment(
        house, permit.expires_on
    )
    assert permits.production_deadline(db, make_food_product(), start) == start


# -- demo data --------------------------------------------------------------------------------


def test_the_demo_has_a_product_with_an_expiring_permit_and_one_blocked_by_a_missing_permit(
    clock, db
):
    from sqlalchemy import select

    from factoryshare.models import Product
    from factoryshare.models.permits import Permit
    from fixtures.demo import load_demo

    load_demo(db)
    second = load_demo(db)
    assert second.created.get("permits", 0) == 0
    states = [permits.state(db, p) for p in db.scalars(select(Permit))]
    assert "expiring" in states
    now = clock.now()
    blocked = [
        p.name
        for p in db.scalars(select(Product))
        if permits.check_gate(db, p, now, now + dt.timedelta(hours=1))
    ]
    assert len(blocked) == 1
