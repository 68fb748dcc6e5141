"""Permits through the API: scoped like products, documents, reference data, overview, overrides."""

from __future__ import annotations

import datetime as dt
import io

from factoryshare.models import Member, ProductionHouse, Role
from tests.factories.bookings import at, working_day

URL = "/api/v1/permits"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _pirt(product_id, expires_on=dt.date(2029, 6, 30)):
    return {
        "product_id": product_id,
        "permit_type": "pirt",
        "number": f"2320101020123-{expires_on.year % 100:02d}",
        "issued_on": "2024-07-01",
        "expires_on": expires_on.isoformat(),
    }


def _owner(db, make_user, product):
    return make_user(Role.member, member_id=product.member_id)


def _manager(db, make_user, product):
    member = db.get(Member, product.member_id)
    return make_user(Role.manager, houses=[db.get(ProductionHouse, member.house_id)])


def test_a_member_records_a_pirt_permit_and_sees_its_state(
    client, db, make_user, make_food_product, token_for
):
    product = make_food_product()
    headers = token_for(_owner(db, make_user, product))
    r = client.post(URL, json=_pirt(product.id), headers=headers)
    assert r.status_code == 201, r.json
    assert r.json["number"] == "2320101020123-29" and r.json["state"] == "valid"
    permit_id = r.json["id"]
    r = client.get(URL, query_string={"product_id": product.id}, headers=headers)
    assert r.status_code == 200, r.json
    assert [p["id"] for p in r.json["items"]] == [permit_id] and r.json["total"] == 1


def test_a_pirt_number_disagreeing_with_its_expiry_is_a_422_naming_both(
    client, db, make_user, make_food_product, token_for
):
    product = make_food_product()
    body = {**_pirt(product.id), "number": "2320101020123-28"}
    r = client.post(URL, json=body, headers=token_for(_owner(db, make_user, product)))
    assert r.status_code == 422
    assert {"number", "expires_on"} <= set(r.json["errors"])


def test_another_members_permit_is_not_found_and_an_aggregator_may_only_read(
    client, db, make_user, make_food_product, make_permit, make_cluster, token_for
):
    product = make_food_product()
    permit = make_permit(product, "halal")
    stranger = token_for(make_user(Role.member))
    assert client.get(f"{URL}/{permit.id}", headers=stranger).status_code == 404
    aggregator = make_user(Role.aggregator)
    make_cluster(
        aggregator_id=aggregator.aggregator_id, members=[db.get(Member, product.member_id)]
    )
    headers = token_for(aggregator)
    assert client.get(f"{URL}/{permit.id}", headers=headers).status_code == 200
    assert (
        client.patch(f"{URL}/{permit.id}", json={"issuer": "x"}, headers=headers).status_code == 403
    )
    # A manager of another house sees nothing.
    other_manager = token_for(make_user(Role.manager))
    assert client.get(f"{URL}/{permit.id}", headers=other_manager).status_code == 404


def test_a_pdf_document_is_stored_and_downloaded_by_whoever_may_see_the_permit(
    client, db, make_user, make_food_product, make_permit, token_for
):
    product = make_food_product()
    permit = make_permit(product, "halal")
    headers = token_for(_owner(db, make_user, product))
    r = client.post(
        f"{URL}/{permit.id}/document",
        headers=headers,
        data={"document": (io.BytesIO(PDF), "sertifikat.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.json
    assert r.json["document"] == {
        "name": "sertifikat.pdf",
        "mime": "application/pdf",
        "size": len(PDF),
    }
    r = client.get(
        f"{URL}/{permit.id}/document", headers=token_for(_manager(db, make_user, product))
    )
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert (
        client.get(
            f"{URL}/{permit.id}/document", headers=token_for(make_user(Role.member))
        ).status_code
        == 404
    )


def test_a_document_that_is_not_a_pdf_or_image_or_is_too_large_is_refused(
    client, db, make_user, make_food_product, make_permit, token_for
):
    product = make_food_product()
    permit = make_permit(product, "halal")
    headers = token_for(_owner(db, make_user, product))
    r = client.post(
        f"{URL}/{permit.id}/document",
        headers=headers,
        data={"document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "izin.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "document" in r.json["errors"]
    big = b"%PDF-" + b"0" * (5 * 1024 * 1024)
    r = client.post(
        f"{URL}/{permit.id}/document",
        headers=headers,
        data={"document": (io.BytesIO(big), "besar.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code in (413, 422)
    assert client.get(f"{URL}/{permit.id}", headers=headers).json["document"] is None


def test_everyone_reads_the_permit_types_and_only_an_admin_changes_them(
    client, make_user, token_for
):
    member = token_for(make_user(Role.member))
    r = client.get("/api/v1/permit-types", headers=member)
    by_code = {t["code"]: t for t in r.json["items"]}
    assert set(by_code) >= {"nib", "pirt", "bpom_md", "bpom_ml", "halal", "sni", "trademark"}
    assert by_code["pirt"]["validity_years"] == 5 and by_code["halal"]["expiry"] == "none"
    type_id = by_code["pirt"]["id"]
    assert (
        client.patch(
            f"/api/v1/permit-types/{type_id}", json={"renewal_window_days": 120}, headers=member
        ).status_code
        == 403
    )
    admin = token_for(make_user(Role.admin))
    r = client.patch(
        f"/api/v1/permit-types/{type_id}", json={"renewal_window_days": 120}, headers=admin
    )
    assert r.status_code == 200 and r.json["renewal_window_days"] == 120


def test_an_admin_adds_sni_for_a_product_on_the_mandatory_list_and_the_gate_asks_for_it(
    client, db, make_user, make_product, token_for
):
    from factoryshare.services import permits

    product = make_product()
    admin = token_for(make_user(Role.admin))
    r = client.post(
        "/api/v1/permit-requirements",
        headers=admin,
        json={"permit_type": "sni", "product_id": product.id, "note": "Garam beryodium"},
    )
    assert r.status_code == 201, r.json
    day = working_day(10)
    assert [
        g["group"] for g in permits.check_gate(db, product, at(day, "09:00"), at(day, "10:00"))
    ] == ["sni"]
    assert (
        client.delete(f"/api/v1/permit-requirements/{r.json['id']}", headers=admin).status_code
        == 204
    )


def test_booking_a_food_product_without_permits_answers_409_permit_missing(
    client, db, make_user, make_machine, make_member, make_food_product, token_for
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    product = make_food_product(member=member)
    day = working_day(10)
    r = client.post(
        "/api/v1/bookings",
        headers=token_for(make_user(Role.member, member=member)),
        json={
            "machine_id": machine.id,
            "product_id": product.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "10:00").isoformat(),
        },
    )
    assert r.status_code == 409, r.json
    assert r.json["code"] == "permit_missing"
    assert set(r.json["errors"]) == {"permits.food_registration", "permits.halal"}


def test_a_manager_overrides_with_a_reason_and_a_member_may_not(
    clock, client, db, make_user, make_food_product, token_for
):
    product = make_food_product()
    until = (clock.now() + dt.timedelta(days=30)).isoformat()
    body = {"product_id": product.id, "reason": "Izin P-IRT sedang diperpanjang", "until": until}
    assert (
        client.post(
            f"{URL}/overrides", json=body, headers=token_for(_owner(db, make_user, product))
        ).status_code
        == 403
    )
    manager = token_for(_manager(db, make_user, product))
    r = client.post(f"{URL}/overrides", json=body, headers=manager)
    assert r.status_code == 201, r.json
    from sqlalchemy import select

    from factoryshare.models import AuditEvent

    assert db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "permit_overrides", AuditEvent.object_id == str(r.json["id"])
        )
    ).all() == ["permit_override.created"]


def test_the_house_overview_counts_states_and_names_blocked_products(
    clock, client, db, make_user, make_food_product, make_permit, token_for
):
    product = make_food_product()
    blocked = make_food_product(member=product.member)
    today = clock.today()
    make_permit(product, "halal")
    make_permit(product, "pirt", expires_on=today + dt.timedelta(days=20))
    make_permit(
        blocked,
        "bpom_md",
        number="BPOM RI MD 224510001234",
        issued_on=today - dt.timedelta(days=2000),
        expires_on=today - dt.timedelta(days=10),
    )
    member = db.get(Member, product.member_id)
    r = client.get(
        f"{URL}/overview",
        query_string={"house_id": member.house_id},
        headers=token_for(_manager(db, make_user, product)),
    )
    assert r.status_code == 200, r.json
    assert (r.json["valid"], r.json["expiring"], r.json["expired"]) == (1, 1, 1)
    assert [b["product_id"] for b in r.json["blocked_products"]] == [blocked.id]
    assert (
        client.get(
            f"{URL}/overview",
            query_string={"house_id": member.house_id},
            headers=token_for(make_user(Role.member)),
        ).status_code
        == 403
    )


def test_an_aggregator_sees_the_overview_of_its_cluster_only(
    client, db, make_user, make_food_product, make_permit, make_cluster, token_for
):
    product = make_food_product()
    make_permit(product, "halal")
    aggregator = make_user(Role.aggregator)
    cluster = make_cluster(
        aggregator_id=aggregator.aggregator_id, members=[db.get(Member, product.member_id)]
    )
    r = client.get(
        f"{URL}/overview", query_string={"cluster_id": cluster.id}, headers=token_for(aggregator)
    )
    assert r.status_code == 200, r.json
    assert r.json["members"] == 1 and r.json["valid"] == 1
    assert [b["product_id"] for b in r.json["blocked_products"]] == [product.id]
    other = token_for(make_user(Role.aggregator))
    assert (
        client.get(
            f"{URL}/overview", query_string={"cluster_id": cluster.id}, headers=other
        ).status_code
        == 404
    )


def test_a_renewed_permit_gets_its_reminders_again_and_a_reviewed_halal_is_active(
    client, db, make_user, make_food_product, make_permit, token_for
):
    from factoryshare.models.permits import PermitStatus

    product = make_food_product()
    pirt = make_permit(product, "pirt", reminders_sent=[90, 30])
    halal = make_permit(
        product,
        "halal",
        status=PermitStatus.needs_review,
        review_reason="The product's routing changed.",
    )
    headers = token_for(_manager(db, make_user, product))
    new_expiry = dt.date(pirt.issued_on.year + 5, 1, 31)
    r = client.patch(
        f"{URL}/{pirt.id}",
        headers=headers,
        json={
            "expires_on": new_expiry.isoformat(),
            "number": f"2320101020123-{new_expiry.year % 100:02d}",
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["reminders_sent"] == []
    r = client.patch(
        f"{URL}/{halal.id}",
        headers=headers,
        json={"status": "active", "note": "Resep tidak berubah, hanya urutan mesin."},
    )
    assert r.status_code == 200, r.json
    assert (r.json["state"], r.json["review_reason"]) == ("valid", None)
