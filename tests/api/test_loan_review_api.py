"""GET /loan-applications/{id}/review: what the aggregator's and lender's pages show, served
to API clients too (issue 20: the plan and the permit wording live in services)."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.models import Role

CLOCK = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


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
    aggregator = make_aggregator()
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    bank = make_lender()
    people = {
        "chair": make_user(Role.member, member=chair, name="Asep Ketua"),
        "aggregator": make_user(Role.aggregator, aggregator=aggregator, name="Rina Agregator"),
        "lender": make_user(Role.lender, lender=bank, language="en"),
        "other_lender": make_user(Role.lender),
    }
    as_ = {name: token_for(user) for name, user in people.items()}
    r = client.post(
        "/api/v1/loan-applications",
        headers=as_["chair"],
        json={
            "cluster_id": cluster.id,
            "requested_amount": 50_000_000,
            "tenor_months": 36,
            "lender_id": bank.id,
        },
    )
    base = f"/api/v1/loan-applications/{r.json['id']}"
    assert client.post(f"{base}/submit", headers=as_["chair"], json={}).status_code == 200
    assert client.post(f"{base}/approve", headers=as_["aggregator"], json={}).status_code == 200
    return {"base": base, "as": as_}


def test_the_review_names_who_decided_what_and_a_lender_reads_the_chair_by_role_only(client, walk):
    review = client.get(f"{walk['base']}/review", headers=walk["as"]["aggregator"]).json
    assert [(h["kind"], h["role"], h["decided_by"]) for h in review["history"]] == [
        ("submitted", "member", "Asep Ketua"),
        ("endorsed", "aggregator", "Rina Agregator"),
    ]
    assert review["items"] == [] and review["permit_flags"] == []

    review = client.get(f"{walk['base']}/review", headers=walk["as"]["lender"]).json
    assert [h["decided_by"] for h in review["history"]] == ["the cluster's chair", "Rina Agregator"]
    assert (
        client.get(f"{walk['base']}/review", headers=walk["as"]["other_lender"]).status_code == 404
    )


def test_a_lender_must_say_why_it_declines(client, walk):
    base = walk["base"]
    r = client.post(
        f"{base}/lender-decision",
        headers=walk["as"]["lender"],
        json={"approved": False, "reference": "BRU/7", "note": "  "},
    )
    assert r.status_code == 422 and list(r.json["errors"]) == ["note"]
    assert r.json["errors"]["note"] == ["Write the reason the loan is declined."]
    assert client.get(base, headers=walk["as"]["aggregator"]).json["status"] == "approved"


def test_an_aggregator_must_say_why_it_rejects_or_sends_back(
    client, token_for, make_user, make_aggregator, make_cluster, make_member
):
    aggregator = make_aggregator()
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    chair_h = token_for(make_user(Role.member, member=chair))
    agg_h = token_for(make_user(Role.aggregator, aggregator=aggregator))
    r = client.post(
        "/api/v1/loan-applications",
        headers=chair_h,
        json={"cluster_id": cluster.id, "requested_amount": 50_000_000, "tenor_months": 36},
    )
    base = f"/api/v1/loan-applications/{r.json['id']}"
    assert client.post(f"{base}/submit", headers=chair_h, json={}).status_code == 200
    for action in ("reject", "request-changes"):
        r = client.post(f"{base}/{action}", headers=agg_h, json={"reason": "   "})
        assert r.status_code == 422 and list(r.json["errors"]) == ["reason"], r.json
    assert r.json["errors"]["reason"] == ["Tulis catatan tentang apa yang perlu diperbaiki."]
    assert client.get(base, headers=agg_h).json["status"] == "submitted"
    r = client.post(f"{base}/reject", headers=agg_h, json={"reason": "PKS belum ditandatangani"})
    assert r.status_code == 200 and r.json["decisions"][-1]["note"] == "PKS belum ditandatangani"
