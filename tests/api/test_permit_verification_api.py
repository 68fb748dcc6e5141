"""Permits that count, through the API: verify, reject, the house's trust setting, halal review."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare import clock as product_clock
from factoryshare.models import AuditEvent, Member, ProductionHouse, Role
from factoryshare.models.permits import PermitStatus
from tests.factories.bookings import at, working_day
from tests.factories.permits import pirt_number

URL = "/api/v1/permits"


@pytest.fixture()
def setting(db, make_user, make_machine, make_member, make_food_product, make_permit, token_for):
    """A member with a food product whose halal certificate is verified; the member's and the
    house manager's headers."""
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    product = make_food_product(member=member)
    make_permit(product, "halal")
    owner = token_for(make_user(Role.member, member=member))
    manager = token_for(make_user(Role.manager, houses=[db.get(ProductionHouse, member.house_id)]))
    return machine, product, owner, manager


def _record_pirt(client, headers, product):  # type: ignore[no-untyped-def]
    expires = product_clock.now().date() + dt.timedelta(days=400)
    r = client.post(
        URL,
        headers=headers,
        json={
            "product_id": product.id,
            "permit_type": "pirt",
            "number": pirt_number(expires.year),
            "issued_on": (product_clock.now().date() - dt.timedelta(days=30)).isoformat(),
            "expires_on": expires.isoformat(),
        },
    )
    assert r.status_code == 201, r.json
    return r.json


def _book(client, headers, machine, product):  # type: ignore[no-untyped-def]
    day = working_day(10)
    return client.post(
        "/api/v1/bookings",
        headers=headers,
        json={
            "machine_id": machine.id,
            "product_id": product.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "10:00").isoformat(),
        },
    )


def test_a_recorded_permit_shows_its_verification_beside_its_date_state(client, setting):
    _machine, product, owner, _manager = setting
    permit = _record_pirt(client, owner, product)
    assert (permit["state"], permit["verification"], permit["counts_for_gate"]) == (
        "valid",
        "submitted",
        False,
    )
    assert permit["verification_at"] is not None


def test_a_submitted_permit_does_not_open_the_gate_409_permit_unverified_naming_it(client, setting):
    machine, product, owner, _manager = setting
    permit = _record_pirt(client, owner, product)
    r = _book(client, owner, machine, product)
    assert r.status_code == 409, r.json
    assert r.json["code"] == "permit_unverified"
    assert r.json["details"]["permit_ids"] == [permit["id"]]
    assert permit["number"] in r.json["errors"]["permits.food_registration"][0]


def test_a_verified_permit_opens_the_gate(client, setting):
    machine, product, owner, manager = setting
    permit = _record_pirt(client, owner, product)
    r = client.post(
        f"{URL}/{permit['id']}/verify", headers=manager, json={"note": "Nomor cocok dengan SPP-IRT"}
    )
    assert r.status_code == 200, r.json
    assert (r.json["verification"], r.json["verification_note"], r.json["counts_for_gate"]) == (
        "verified",
        "Nomor cocok dengan SPP-IRT",
        True,
    )
    assert r.json["verification_by_id"] is not None
    assert _book(client, owner, machine, product).status_code == 201


def test_a_house_trusting_its_members_entries_opens_the_gate_without_verification(client, setting):
    machine, product, owner, manager = setting
    r = client.patch(
        f"/api/v1/houses/{machine.house_id}", headers=manager, json={"trust_member_permits": True}
    )
    assert r.status_code == 200, r.json
    assert r.json["trust_member_permits"] is True
    permit = _record_pirt(client, owner, product)
    assert (permit["verification"], permit["counts_for_gate"]) == ("submitted", True)
    assert _book(client, owner, machine, product).status_code == 201


def test_a_member_cannot_change_its_houses_trust_setting(client, setting):
    machine, _product, owner, _manager = setting
    r = client.patch(
        f"/api/v1/houses/{machine.house_id}", headers=owner, json={"trust_member_permits": True}
    )
    assert r.status_code == 403


def test_a_member_cannot_verify_its_own_permit(client, setting):
    _machine, product, owner, _manager = setting
    permit = _record_pirt(client, owner, product)
    assert client.post(f"{URL}/{permit['id']}/verify", headers=owner, json={}).status_code == 403
    assert (
        client.post(
            f"{URL}/{permit['id']}/reject-verification",
            headers=owner,
            json={"reason": "Saya salah ketik"},
        ).status_code
        == 403
    )
    assert client.get(f"{URL}/{permit['id']}", headers=owner).json["verification"] == "submitted"


def test_a_manager_of_another_house_gets_404(client, setting, make_user, token_for):
    _machine, product, owner, _manager = setting
    permit = _record_pirt(client, owner, product)
    stranger = token_for(make_user(Role.manager))
    assert client.post(f"{URL}/{permit['id']}/verify", headers=stranger, json={}).status_code == 404
    assert (
        client.post(
            f"{URL}/{permit['id']}/reject-verification",
            headers=stranger,
            json={"reason": "Tidak terbaca"},
        ).status_code
        == 404
    )


def test_a_rejection_needs_a_reason_and_leaves_the_permit_rejected(client, db, setting):
    machine, product, owner, manager = setting
    permit = _record_pirt(client, owner, product)
    r = client.post(f"{URL}/{permit['id']}/reject-verification", headers=manager, json={})
    assert r.status_code == 422 and "reason" in r.json["errors"]
    r = client.post(
        f"{URL}/{permit['id']}/reject-verification",
        headers=manager,
        json={"reason": "Nomor tidak terdaftar di Dinkes"},
    )
    assert r.status_code == 200, r.json
    assert (r.json["verification"], r.json["verification_note"]) == (
        "rejected",
        "Nomor tidak terdaftar di Dinkes",
    )
    assert _book(client, owner, machine, product).json["code"] == "permit_unverified"
    r = client.get(URL, headers=manager, query_string={"verification": "rejected"})
    assert [p["id"] for p in r.json["items"]] == [permit["id"]]


def test_editing_a_verified_permits_number_makes_it_submitted_again(client, setting):
    _machine, product, owner, manager = setting
    permit = _record_pirt(client, owner, product)
    client.post(f"{URL}/{permit['id']}/verify", headers=manager, json={})
    number = permit["number"].replace("2320101020123", "2320101020777")
    r = client.patch(f"{URL}/{permit['id']}", headers=owner, json={"number": number})
    assert r.status_code == 200, r.json
    assert (r.json["verification"], r.json["counts_for_gate"]) == ("submitted", False)


def test_a_member_cannot_clear_needs_review_on_its_halal_certificate_a_manager_can_with_a_note(
    client, db, setting, make_permit
):
    _machine, product, owner, manager = setting
    halal = make_permit(
        product,
        "halal",
        status=PermitStatus.needs_review,
        review_reason="The product's routing changed.",
    )
    url = f"{URL}/{halal.id}"
    assert client.patch(url, headers=owner, json={"status": "active"}).status_code == 403
    assert (
        client.post(
            f"{url}/clear-review", headers=owner, json={"note": "Resep tidak berubah"}
        ).status_code
        == 403
    )
    r = client.post(f"{url}/clear-review", headers=manager, json={})
    assert r.status_code == 422 and "note" in r.json["errors"]
    r = client.patch(url, headers=manager, json={"status": "active"})
    assert r.status_code == 422 and "note" in r.json["errors"]
    r = client.post(
        f"{url}/clear-review", headers=manager, json={"note": "Hanya urutan mesin yang berubah"}
    )
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["state"]) == ("active", "valid")
    assert db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "permits",
            AuditEvent.object_id == str(halal.id),
            AuditEvent.action == "permit.review_cleared",
        )
    ).all() == ["permit.review_cleared"]


def test_the_overview_counts_permits_waiting_for_verification(client, db, setting):
    _machine, product, owner, manager = setting
    _record_pirt(client, owner, product)
    house_id = db.get(Member, product.member_id).house_id
    r = client.get(f"{URL}/overview", headers=manager, query_string={"house_id": house_id})
    assert r.status_code == 200, r.json
    assert r.json["verification"] == {"submitted": 1, "verified": 1, "rejected": 0}


def test_a_manager_verifies_a_waiting_permit_from_the_permits_page_and_the_member_sees_it(
    client, db, make_user, make_member, make_food_product, make_permit
):
    from factoryshare.models.permits import PermitVerification
    from tests.web.helpers import csrf, sign_in

    manager = make_user(Role.manager)
    house = manager.houses[0]
    member = make_member(house_id=house.id, business_name="Dodol Picnic Garut")
    owner = make_user(Role.member, member=member)
    product = make_food_product(member=member, name="Dodol Kacang")
    pirt = make_permit(product, "pirt", verification=PermitVerification.submitted)
    sign_in(client, owner)
    assert "menunggu verifikasi" in client.get("/permits").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(client, "/permits")})
    sign_in(client, manager)
    page = client.get("/manager/permits").get_data(as_text=True)
    waiting = page.split("Izin yang menunggu verifikasi", 1)[1].split("<h2>", 1)[0]
    assert "Dodol Picnic Garut" in waiting and pirt.number in waiting
    r = client.post(
        f"/manager/permits/{pirt.id}/verify",
        data={
            "note": "Dicek di SPP-IRT",
            "house": house.id,
            "csrf_token": csrf(client, "/manager/permits"),
        },
    )
    assert r.status_code == 302
    page = client.get("/manager/permits").get_data(as_text=True)
    assert "Terverifikasi" in page, page[page.find("flash") : page.find("flash") + 400]
    db.refresh(pirt)
    assert pirt.verification is PermitVerification.verified
    assert "Tidak ada izin anggota yang menunggu diperiksa." in page
