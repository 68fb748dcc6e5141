"""Decisions on record and the lender's part: who decided what, when, why and on which terms;
the applicant's text stays as written; only the lender the application is put to decides."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.models import Role

CLOCK = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
PURPOSE = "Modal kerja jahit jaket kulit untuk pesanan offtaker"


@pytest.fixture()
def walk(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_cluster,
    make_member,
    make_lender,
    clock,
):
    clock.set(CLOCK)
    aggregator = make_aggregator(approval_limit=500_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    bank, other_bank = make_lender(name="Bank Rakyat Demo"), make_lender()
    people = {
        "chair": make_user(Role.member, member=chair),
        "aggregator": make_user(Role.aggregator, aggregator=aggregator),
        "lender": make_user(Role.lender, lender=bank),
        "other_lender": make_user(Role.lender, lender=other_bank),
        "admin": make_user(Role.admin),
    }
    as_ = {name: token_for(user) for name, user in people.items()}
    r = client.post(
        "/api/v1/loan-applications",
        headers=as_["chair"],
        json={
            "cluster_id": cluster.id,
            "requested_amount": 50_000_000,
            "tenor_months": 36,
            "notes": PURPOSE,
            "lender_id": bank.id,
        },
    )
    assert r.status_code == 201, r.json
    return {
        "base": f"/api/v1/loan-applications/{r.json['id']}",
        "id": r.json["id"],
        "as": as_,
        "people": people,
        "bank": bank,
    }


def _post(client, walk, path, who, body=None):
    return client.post(f"{walk['base']}/{path}", headers=walk["as"][who], json=body or {})


def _to_the_lender(client, walk):
    assert _post(client, walk, "submit", "chair").status_code == 200
    assert _post(client, walk, "approve", "aggregator").json["status"] == "approved"


def test_the_purpose_stays_as_written_after_send_back_and_reject(client, walk):
    _post(client, walk, "submit", "chair")
    r = _post(client, walk, "request-changes", "aggregator", {"reason": "Lampirkan PKS offtake"})
    assert r.status_code == 200 and r.json["notes"] == PURPOSE
    _post(client, walk, "submit", "chair")
    r = _post(client, walk, "reject", "aggregator", {"reason": "PKS belum ditandatangani"})
    assert r.status_code == 200 and r.json["notes"] == PURPOSE

    notes = [(d["kind"], d["note"]) for d in r.json["decisions"]]
    assert notes == [
        ("submitted", ""),
        ("changes_requested", "Lampirkan PKS offtake"),
        ("submitted", ""),
        ("rejected", "PKS belum ditandatangani"),
    ]


def test_each_decision_is_recorded_with_who_when_note_and_terms(client, walk):
    _to_the_lender(client, walk)
    r = _post(
        client,
        walk,
        "lender-decision",
        "lender",
        {"approved": True, "reference": "BRD/KUR/2026/0042", "note": "Sesuai analisa kredit"},
    )
    assert r.status_code == 200, r.json
    assert _post(client, walk, "disburse", "lender").status_code == 200
    r = _post(client, walk, "tranches", "lender", {"amount": 20_000_000})
    assert r.status_code == 201, r.json

    r = client.get(f"{walk['base']}/decisions", headers=walk["as"]["chair"])
    assert r.status_code == 200
    people = walk["people"]
    rows = [(d["kind"], d["decided_by_id"], d["role"], d["decided_at"]) for d in r.json["items"]]
    assert rows == [
        ("submitted", people["chair"].id, "member", CLOCK.isoformat()),
        ("endorsed", people["aggregator"].id, "aggregator", CLOCK.isoformat()),
        ("lender_approved", people["lender"].id, "lender", CLOCK.isoformat()),
        ("tranche", people["lender"].id, "lender", CLOCK.isoformat()),
    ]
    submitted, endorsed, decided, tranche = (d["terms"] for d in r.json["items"])
    assert submitted["amount"] == 50_000_000 and submitted["tenor_months"] == 36
    assert endorsed["amount"] == 50_000_000
    assert decided == {
        "amount": 50_000_000,
        "rate_bps": 600,
        "rate_percent": 6.0,
        "tenor_months": 36,
        "reference": "BRD/KUR/2026/0042",
        "lender_id": walk["bank"].id,
    }
    assert r.json["items"][2]["note"] == "Sesuai analisa kredit"
    assert tranche["amount"] == 20_000_000 and tranche["disbursed_total"] == 20_000_000
    shown = client.get(walk["base"], headers=walk["as"]["aggregator"]).json["decisions"]
    assert [d["kind"] for d in shown] == ["submitted", "endorsed", "lender_approved", "tranche"]


def test_a_lender_sees_only_its_institutions_applications(client, walk):
    # A draft is not put to anyone yet.
    assert client.get(walk["base"], headers=walk["as"]["lender"]).status_code == 404
    _post(client, walk, "submit", "chair")

    assert (
        client.get(walk["base"], headers=walk["as"]["lender"]).json["lender_id"] == walk["bank"].id
    )
    listed = client.get("/api/v1/loan-applications", headers=walk["as"]["lender"]).json["items"]
    assert [a["id"] for a in listed] == [walk["id"]]
    for path in ("", "/decisions", "/plan", "/schedule"):
        assert (
            client.get(f"{walk['base']}{path}", headers=walk["as"]["other_lender"]).status_code
            == 404
        )
    assert (
        client.get("/api/v1/loan-applications", headers=walk["as"]["other_lender"]).json["items"]
        == []
    )
    _post(client, walk, "approve", "aggregator")
    r = _post(
        client, walk, "lender-decision", "other_lender", {"approved": True, "reference": "X-1"}
    )
    assert r.status_code == 404


def test_a_lender_records_the_decision_with_reference_amount_rate_and_term(client, walk):
    _to_the_lender(client, walk)
    r = _post(client, walk, "lender-decision", "lender", {"approved": True})
    assert r.status_code == 422 and set(r.json["errors"]) == {"reference"}
    r = _post(
        client,
        walk,
        "lender-decision",
        "lender",
        {
            "approved": True,
            "reference": "BRD/KUR/2026/0043",
            "approved_amount": 60_000_000,
            "rate_percent": 6.555,
            "tenor_months": 24,
        },
    )
    # More than endorsed, and a rate with three decimals: both named.
    assert r.status_code == 422 and set(r.json["errors"]) == {"approved_amount", "rate_percent"}

    r = _post(
        client,
        walk,
        "lender-decision",
        "lender",
        {
            "approved": True,
            "reference": "BRD/KUR/2026/0043",
            "approved_amount": 40_000_000,
            "rate_percent": 6.5,
            "tenor_months": 24,
        },
    )
    assert r.status_code == 200, r.json
    assert (
        r.json["status"],
        r.json["lender_reference"],
        r.json["approved_amount"],
        r.json["lender_rate_percent"],
        r.json["lender_tenor_months"],
    ) == ("lender_approved", "BRD/KUR/2026/0043", 40_000_000, 6.5, 24)
    assert r.json["requested_amount"] == 50_000_000 and r.json["tenor_months"] == 36
    schedule = client.get(f"{walk['base']}/schedule", headers=walk["as"]["chair"]).json
    assert len(schedule) == 24 and sum(row["principal"] for row in schedule) == 40_000_000


def test_a_lender_may_decline_with_its_reference(client, walk):
    _to_the_lender(client, walk)
    r = _post(
        client,
        walk,
        "lender-decision",
        "lender",
        {"approved": False, "reference": "BRD/TOLAK/2026/0007", "note": "Kapasitas bayar kurang"},
    )
    assert r.status_code == 200 and r.json["status"] == "lender_declined"
    assert r.json["decisions"][-1]["terms"]["reference"] == "BRD/TOLAK/2026/0007"


def test_an_admin_or_an_aggregator_cannot_post_the_lender_decision(client, walk):
    _to_the_lender(client, walk)
    body = {"approved": True, "reference": "BRD/KUR/2026/0044"}
    for who in ("admin", "aggregator"):
        assert _post(client, walk, "lender-decision", who, body).status_code == 403
    assert client.get(walk["base"], headers=walk["as"]["chair"]).json["status"] == "approved"
    assert _post(client, walk, "lender-decision", "lender", body).status_code == 200
    for who in ("admin", "aggregator"):
        assert _post(client, walk, "disburse", who).status_code == 403
        assert _post(client, walk, "tranches", who, {"amount": 1_000_000}).status_code == 403


def test_an_admin_sets_up_a_lender_and_its_officers_account(client, token_for, make_user):
    admin = token_for(make_user(Role.admin))
    r = client.post(
        "/api/v1/lenders",
        headers=admin,
        json={"name": "Koperasi Kredit Uji", "kind": "cooperative"},
    )
    assert r.status_code == 201 and r.json["kind"] == "cooperative"
    lender_id = r.json["id"]
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "email": "analis@kkuji.example.id",
            "password": "rahasia-kredit-2026",
            "role": "lender",
        },
    )
    assert r.status_code == 422 and "lender_id" in r.json["errors"]
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "email": "analis@kkuji.example.id",
            "password": "rahasia-kredit-2026",
            "role": "lender",
            "lender_id": lender_id,
        },
    )
    assert r.status_code == 201 and r.json["lender_id"] == lender_id

    token = client.post(
        "/api/v1/auth/token",
        json={"email": "analis@kkuji.example.id", "password": "rahasia-kredit-2026"},
    ).json["token"]
    officer = {"Authorization": f"Bearer {token}"}
    assert [x["id"] for x in client.get("/api/v1/lenders", headers=officer).json["items"]] == [
        lender_id
    ]
    assert (
        client.post(
            "/api/v1/lenders", headers=officer, json={"name": "Bank Lain", "kind": "bank"}
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/lenders/{lender_id}", headers=admin).status_code == 409
