"""Permits that count: a member's own entry opens the gate once its house has verified it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare import clock as product_clock
from factoryshare import events
from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from factoryshare.models import AuditEvent, Member, ProductionHouse, Role
from factoryshare.models.permits import PermitStatus, PermitVerification
from factoryshare.services import bookings, houses, permits, production_requests
from tests.factories.bookings import at, working_day
from tests.factories.migrations import insert_house_and_member
from tests.factories.permits import pirt_number

HEARD: list[dict] = []


def _heard(session, **payload):  # type: ignore[no-untyped-def]
    HEARD.append(payload)


@pytest.fixture()
def setting(db, make_machine, make_member, make_food_product, make_user, make_permit):
    """A member of a house (not trusting its members' entries) with a food product whose halal
    certificate is verified, its own user and the house's manager."""
    machine = make_machine(capabilities=["sewing"])
    member = make_member(house_id=machine.house_id)
    product = make_food_product(member=member)
    make_permit(product, "halal")
    owner = Actor.of(make_user(Role.member, member=member))
    manager = Actor.of(make_user(Role.manager, houses=[db.get(ProductionHouse, member.house_id)]))
    return machine, product, owner, manager


def _pirt(db, actor, product, **extra):  # type: ignore[no-untyped-def]
    today = product_clock.now().date()
    expires = today + dt.timedelta(days=400)
    data = {
        "product_id": product.id,
        "permit_type": "pirt",
        "number": pirt_number(expires.year),
        "issued_on": today - dt.timedelta(days=30),
        "expires_on": expires,
        **extra,
    }
    return permits.create_permit(db, actor, data)


def _book(db, actor, machine, product):  # type: ignore[no-untyped-def]
    day = working_day(10)
    return bookings.create_booking(
        db,
        actor,
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "11:00"),
        product_id=product.id,
    )


def test_a_permit_a_member_records_is_submitted(db, setting):
    _machine, product, owner, _manager = setting
    permit = _pirt(db, owner, product)
    assert permit.verification is PermitVerification.submitted
    assert permit.last_verification.by_id == owner.user_id


def test_a_submitted_permit_does_not_open_the_gate_and_the_409_names_it(db, setting):
    machine, product, owner, _manager = setting
    permit = _pirt(db, owner, product)
    with pytest.raises(Conflict) as err:
        _book(db, owner, machine, product)
    assert err.value.code == "permit_unverified"
    assert err.value.details["permit_ids"] == [permit.id]
    assert permit.number in err.value.errors["permits.food_registration"][0]


def test_a_submitted_permit_does_not_open_the_gate_of_a_production_request(db, setting):
    machine, product, owner, _manager = setting
    _pirt(db, owner, product)
    day = working_day(10)
    with pytest.raises(Conflict) as err:
        production_requests.create_request(
            db,
            owner,
            {
                "product_id": product.id,
                "house_id": machine.house_id,
                "quantity": 10,
                "earliest_start": at(day, "08:00"),
                "due": at(day, "16:00"),
            },
        )
    assert err.value.code == "permit_unverified"


def test_a_verified_permit_opens_the_gate(db, setting):
    machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    permits.verify_permit(db, manager, permit.id, note="Dicek di SPP-IRT Dinkes")
    assert permit.verification is PermitVerification.verified
    assert (permit.last_verification.by_id, permit.last_verification.note) == (
        manager.user_id,
        "Dicek di SPP-IRT Dinkes",
    )
    assert _book(db, owner, machine, product).product_id == product.id


def test_a_house_trusting_its_members_entries_opens_the_gate_without_verification(db, setting):
    machine, product, owner, manager = setting
    houses.update_house(db, manager, machine.house_id, {"trust_member_permits": True})
    permit = _pirt(db, owner, product)
    assert permit.verification is PermitVerification.submitted
    assert _book(db, owner, machine, product).product_id == product.id


def test_a_rejected_permit_never_opens_the_gate_even_in_a_trusting_house(db, setting):
    machine, product, owner, manager = setting
    houses.update_house(db, manager, machine.house_id, {"trust_member_permits": True})
    permit = _pirt(db, owner, product)
    permits.reject_permit(db, manager, permit.id, reason="Nomor tidak ada di daftar Dinkes")
    with pytest.raises(Conflict) as err:
        _book(db, owner, machine, product)
    assert err.value.code == "permit_unverified"
    assert "rejected" in err.value.errors["permits.food_registration"][0]


def test_a_member_cannot_verify_its_own_permit(db, setting):
    _machine, product, owner, _manager = setting
    permit = _pirt(db, owner, product)
    with pytest.raises(Forbidden):
        permits.verify_permit(db, owner, permit.id)
    assert permit.verification is PermitVerification.submitted


def test_a_manager_of_another_house_gets_not_found(db, setting, make_user):
    _machine, product, owner, _manager = setting
    permit = _pirt(db, owner, product)
    stranger = Actor.of(make_user(Role.manager))
    with pytest.raises(NotFound):
        permits.verify_permit(db, stranger, permit.id)
    with pytest.raises(NotFound):
        permits.reject_permit(db, stranger, permit.id, reason="Tidak terbaca sama sekali")


def test_verifying_a_verified_permit_is_an_invalid_transition(db, setting):
    _machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    permits.verify_permit(db, manager, permit.id)
    with pytest.raises(InvalidTransition):
        permits.verify_permit(db, manager, permit.id)


def test_a_rejection_needs_a_reason_and_tells_the_member(db, setting, monkeypatch):
    _machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    with pytest.raises(ValidationFailed) as err:
        permits.reject_permit(db, manager, permit.id, reason="  ")
    assert "reason" in err.value.errors
    HEARD.clear()
    monkeypatch.setitem(events.SUBSCRIBERS, "permit_verification_rejected", [f"{__name__}:_heard"])
    permits.reject_permit(db, manager, permit.id, reason="Dokumen buram, unggah ulang")
    assert permit.verification is PermitVerification.rejected
    assert [(h["permit"].id, h["reason"]) for h in HEARD] == [
        (permit.id, "Dokumen buram, unggah ulang")
    ]
    assert db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "permits",
            AuditEvent.object_id == str(permit.id),
            AuditEvent.action.like("permit.verification%"),
        )
    ).all() == ["permit.verification_rejected"]


def test_editing_a_verified_permits_number_makes_it_submitted_again(db, setting):
    machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    permits.verify_permit(db, manager, permit.id)
    number = pirt_number(permit.expires_on.year).replace("2320101020123", "2320101020999")
    permits.update_permit(db, owner, permit.id, {"number": number})
    assert permit.verification is PermitVerification.submitted
    with pytest.raises(Conflict) as err:
        _book(db, owner, machine, product)
    assert err.value.code == "permit_unverified"


def test_changing_only_the_issuer_keeps_a_permit_verified(db, setting):
    _machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    permits.verify_permit(db, manager, permit.id)
    permits.update_permit(db, owner, permit.id, {"issuer": "Dinkes Kabupaten Garut"})
    assert permit.verification is PermitVerification.verified


def test_uploading_a_new_document_makes_a_verified_permit_submitted_again(db, setting):
    _machine, product, owner, manager = setting
    permit = _pirt(db, owner, product)
    permits.verify_permit(db, manager, permit.id)
    permits.attach_document(db, owner, permit.id, filename="pirt.pdf", content=b"%PDF-1.4\n%%EOF")
    assert permit.verification is PermitVerification.submitted


def test_a_permit_the_houses_manager_records_is_verified_in_its_name(db, setting):
    _machine, product, _owner, manager = setting
    permit = _pirt(db, manager, product)
    assert permit.verification is PermitVerification.verified
    assert permit.last_verification.by_id == manager.user_id


def test_a_member_cannot_clear_needs_review_on_its_halal_certificate(db, setting, make_permit):
    _machine, product, owner, _manager = setting
    halal = make_permit(
        product,
        "halal",
        status=PermitStatus.needs_review,
        review_reason="The product's routing changed.",
    )
    with pytest.raises(Forbidden):
        permits.update_permit(db, owner, halal.id, {"status": "active", "note": "Sama saja"})
    with pytest.raises(Forbidden):
        permits.clear_review(db, owner, halal.id, note="Resep tidak berubah")
    assert halal.status is PermitStatus.needs_review


def test_a_manager_clears_needs_review_only_with_a_note_which_is_audited(db, setting, make_permit):
    _machine, product, _owner, manager = setting
    halal = make_permit(
        product,
        "halal",
        status=PermitStatus.needs_review,
        review_reason="The product's routing changed.",
    )
    with pytest.raises(ValidationFailed) as err:
        permits.clear_review(db, manager, halal.id, note="")
    assert "note" in err.value.errors
    with pytest.raises(ValidationFailed):
        permits.update_permit(db, manager, halal.id, {"status": "active"})
    permits.clear_review(db, manager, halal.id, note="Hanya urutan mesin berubah, resep sama")
    assert (halal.status, halal.review_reason) == (PermitStatus.active, None)
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "permit.review_cleared", AuditEvent.object_id == str(halal.id)
        )
    ).one()
    assert event.after["note"] == "Hanya urutan mesin berubah, resep sama"


def test_the_overview_counts_permits_by_verification_and_blocks_the_unverified(db, setting):
    _machine, product, owner, manager = setting
    _pirt(db, owner, product)
    member = db.get(Member, product.member_id)
    summary = permits.overview(db, manager, house_id=member.house_id)
    assert summary["verification"] == {"submitted": 1, "verified": 1, "rejected": 0}
    assert [g["problem"] for b in summary["blocked_products"] for g in b["missing"]] == [
        "unverified"
    ]


def test_the_verification_migration_keeps_existing_permits_verified_and_houses_untrusting(tmp_path):
    from sqlalchemy import text

    from factoryshare.db import make_engine
    from factoryshare.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'before-verification.db'}"
    upgrade(url, revision="0014_permit_documents_db")
    engine = make_engine(url)
    at = "2026-11-01 00:00:00.000000"
    with engine.begin() as conn:
        insert_house_and_member(conn, business_name="Dodol Jaya", sector="culinary")
        conn.execute(
            text(
                "INSERT INTO permits (id, member_id, permit_type_id, number, issuer, status,"
                " reminders_sent, created_at, updated_at) SELECT 11, 3, id, '1234567890123', '',"
                f" 'active', '[]', '{at}', '{at}' FROM permit_types WHERE code = 'nib'"
            )
        )

    upgrade(url, revision="0022_permit_verification")

    with engine.connect() as conn:
        permit = conn.execute(text("SELECT id, verification FROM permits")).one()
        records = conn.execute(
            text("SELECT permit_id, verification, by_id, note FROM permit_verification_records")
        ).all()
        trust = conn.execute(text("SELECT trust_member_permits FROM production_houses")).scalar()
    engine.dispose()
    assert tuple(permit) == (11, "verified")
    assert [(r.permit_id, r.verification, r.by_id) for r in records] == [(11, "verified", None)]
    assert "before permits were verified" in records[0].note
    assert not trust
