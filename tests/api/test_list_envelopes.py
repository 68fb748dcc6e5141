"""Every list answers the one page envelope {"items", "page", "page_size", "total"}: a page
holds at most `page_size` items, the pages together hold every item once in a stable order,
and a page costs the same SQL statements whether it holds one item or several (no query per
item: what a schema reads of a relation is loaded with the page)."""

# ruff: noqa: F811  (the imported count_statements fixture is a test parameter)
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from factoryshare.models import Role
from tests.api.test_statement_budgets import count_statements  # noqa: F401  (a fixture)


def _read_pages(client, url: str, headers: dict[str, str], size: int, **query: Any) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every page of the list at `size` a page; asserts the envelope of each."""
    seen: list[dict] = []
    page, total = 1, None
    while True:
        r = client.get(
            url, headers=headers, query_string={**query, "page": page, "page_size": size}
        )
        assert r.status_code == 200, r.json
        assert set(r.json) == {"items", "page", "page_size", "total"}, r.json
        assert (r.json["page"], r.json["page_size"]) == (page, size)
        assert len(r.json["items"]) <= size
        total = r.json["total"] if total is None else total
        assert r.json["total"] == total
        seen += r.json["items"]
        if page * size >= total:
            return seen
        page += 1


def _assert_paged(
    client,
    count_statements,
    url: str,
    headers: dict[str, str],
    *,
    at_least: int,
    **query: Any,
) -> list[dict]:
    whole = client.get(url, headers=headers, query_string={**query, "page_size": 100}).json
    assert whole["total"] == len(whole["items"]) >= at_least, whole
    paged = _read_pages(client, url, headers, 2, **query)
    assert paged == whole["items"]  # the same order, page after page
    if all("id" in item for item in paged):
        assert len({item["id"] for item in paged}) == len(paged)
    counts = []
    for size in (1, at_least):
        with count_statements() as counter:
            r = client.get(url, headers=headers, query_string={**query, "page_size": size})
        assert len(r.json["items"]) == size
        counts.append(len(counter.counted))
    assert counts[0] == counts[1], (url, counts)
    return paged


def test_a_house_lists_its_closures_a_page_at_a_time_by_first_day(
    client, make_house, make_user, token_for, count_statements
):
    house = make_house()
    admin = token_for(make_user(Role.admin))
    url = f"/api/v1/houses/{house.id}/closures"
    for day in ("2027-05-10", "2027-03-01", "2027-04-02"):
        r = client.post(url, json={"start_on": day, "end_on": day}, headers=admin)
        assert r.status_code == 201, r.json
    paged = _assert_paged(client, count_statements, url, admin, at_least=3)
    assert [c["start_on"] for c in paged] == ["2027-03-01", "2027-04-02", "2027-05-10"]


def test_the_kur_schemes_and_permit_reference_data_are_listed_a_page_at_a_time(
    client, make_user, token_for, count_statements
):
    member = token_for(make_user(Role.member))
    schemes = _assert_paged(
        client, count_statements, "/api/v1/kur-schemes", member, at_least=4, on="2026-11-23"
    )
    assert {s["code"] for s in schemes} == {"super_mikro", "mikro", "kecil", "khusus"}
    types = _assert_paged(client, count_statements, "/api/v1/permit-types", member, at_least=7)
    assert [t["code"] for t in types] == sorted(t["code"] for t in types)
    requirements = _assert_paged(
        client, count_statements, "/api/v1/permit-requirements", member, at_least=3
    )
    assert all(r["permit_type"] for r in requirements)


def test_a_manager_lists_the_permit_overrides_a_page_at_a_time(
    clock, client, make_user, make_food_product, token_for, count_statements
):
    admin = token_for(make_user(Role.admin))
    until = (clock.now() + dt.timedelta(days=30)).isoformat()
    for _ in range(3):
        r = client.post(
            "/api/v1/permits/overrides",
            headers=admin,
            json={
                "product_id": make_food_product().id,
                "reason": "Izin P-IRT sedang diperpanjang",
                "until": until,
            },
        )
        assert r.status_code == 201, r.json
    paged = _assert_paged(client, count_statements, "/api/v1/permits/overrides", admin, at_least=3)
    assert [o["id"] for o in paged] == sorted(o["id"] for o in paged)


@pytest.fixture()
def offtake(
    client,
    token_for,
    make_user,
    make_aggregator,
    make_member,
    make_cluster,
    make_product,
    make_clock,
):
    """Three agreements of one cluster, the first with three purchases, and one of another."""
    make_clock.set(dt.date(2027, 1, 6))
    aggregator = make_aggregator()
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    other = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    agg = token_for(make_user(Role.aggregator, aggregator=aggregator))
    product = make_product(member=chair)
    ids = []
    for c in (cluster, cluster, cluster, other):
        r = client.post(
            "/api/v1/offtake-agreements",
            headers=agg,
            json={
                "cluster_id": c.id,
                "product_id": product.id,
                "quantity": 100,
                "unit_price": 10_000,
                "deliveries": [
                    {"due_on": "2027-06-01", "quantity": 60},
                    {"due_on": "2027-07-01", "quantity": 40},
                ],
            },
        )
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
    for quantity in (3, 1, 2):
        r = client.post(
            f"/api/v1/offtake-agreements/{ids[0]}/purchases",
            headers=agg,
            json={"delivered_on": "2027-01-06", "quantity": quantity},
        )
        assert r.status_code == 201, r.json
    return {"agg": agg, "cluster": cluster, "ids": ids}


def test_offtake_agreements_and_their_purchases_are_listed_a_page_at_a_time(
    client, offtake, count_statements
):
    agg, ids = offtake["agg"], offtake["ids"]
    paged = _assert_paged(client, count_statements, "/api/v1/offtake-agreements", agg, at_least=4)
    assert [a["id"] for a in paged] == ids
    assert all(len(a["deliveries"]) == 2 for a in paged)
    purchases = _assert_paged(
        client, count_statements, f"/api/v1/offtake-agreements/{ids[0]}/purchases", agg, at_least=3
    )
    assert [p["quantity"] for p in purchases] == [3, 1, 2]  # by delivery day, then as recorded


def test_an_aggregator_lists_the_agreements_of_one_cluster(client, offtake):
    r = client.get(
        "/api/v1/offtake-agreements",
        headers=offtake["agg"],
        query_string={"cluster_id": offtake["cluster"].id},
    )
    assert r.status_code == 200, r.json
    assert [a["id"] for a in r.json["items"]] == offtake["ids"][:3]
    assert r.json["total"] == 3
    r = client.get("/api/v1/offtake-agreements?cluster_id=nine", headers=offtake["agg"])
    assert r.status_code == 422 and "cluster_id" in str(r.json["errors"])


@pytest.fixture()
def loan(client, token_for, make_user, make_aggregator, make_member, make_cluster, make_clock):  # type: ignore[no-untyped-def]
    """Rp10 juta approved on 6 Jan 2027 for 6 months, paid out in three tranches that day;
    two more drafts of the same cluster."""
    make_clock.set(dt.date(2027, 1, 6))
    aggregator = make_aggregator(approval_limit=100_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    lender = make_user(Role.lender)
    as_ = {
        "chair": token_for(make_user(Role.member, member=chair)),
        "agg": token_for(make_user(Role.aggregator, aggregator=aggregator)),
        "lender": token_for(lender),
    }
    body = {
        "cluster_id": cluster.id,
        "requested_amount": 10_000_000,
        "tenor_months": 6,
        "lender_id": lender.lender_id,
    }
    ids = [
        client.post("/api/v1/loan-applications", headers=as_["chair"], json=body).json["id"]
        for _ in range(3)
    ]
    base = f"/api/v1/loan-applications/{ids[0]}"
    for step, who, payload in (
        ("submit", "chair", {}),
        ("approve", "agg", {}),
        ("lender-decision", "lender", {"approved": True, "reference": "K/1"}),
        ("disburse", "lender", {"amount": 4_000_000, "on": "2027-01-06"}),
        ("tranches", "lender", {"amount": 3_000_000, "on": "2027-01-06"}),
        ("tranches", "lender", {"amount": 3_000_000, "on": "2027-01-06"}),
    ):
        r = client.post(f"{base}/{step}", headers=as_[who], json=payload)
        assert r.status_code in (200, 201), (step, r.json)
    return {"as": as_, "ids": ids, "base": base}


def test_loan_applications_their_decisions_tranches_and_installments_come_a_page_at_a_time(
    client, loan, count_statements
):
    agg, base = loan["as"]["agg"], loan["base"]
    applications = _assert_paged(
        client, count_statements, "/api/v1/loan-applications", loan["as"]["chair"], at_least=3
    )
    assert [a["id"] for a in applications] == loan["ids"]
    assert [d["kind"] for d in applications[0]["decisions"]][:3] == [
        "submitted",
        "endorsed",
        "lender_approved",
    ]
    decisions = _assert_paged(client, count_statements, f"{base}/decisions", agg, at_least=4)
    assert decisions == applications[0]["decisions"]
    tranches = _assert_paged(client, count_statements, f"{base}/tranches", agg, at_least=3)
    assert [t["amount"] for t in tranches] == [4_000_000, 3_000_000, 3_000_000]
    installments = _assert_paged(client, count_statements, f"{base}/installments", agg, at_least=6)
    assert [i["number"] for i in installments] == [1, 2, 3, 4, 5, 6]


def test_the_loans_are_listed_a_page_at_a_time(client, loan):
    agg = loan["as"]["agg"]
    loans = _read_pages(client, "/api/v1/loans", agg, 1)
    assert [x["id"] for x in loans] == [loan["ids"][0]] and loans[0]["disbursed"] == 10_000_000
    r = client.get("/api/v1/loans", headers=agg, query_string={"page": 2, "page_size": 1})
    assert r.json == {"items": [], "page": 2, "page_size": 1, "total": 1}
    r = client.get("/api/v1/loans", headers=agg, query_string={"page_size": 101})
    assert r.status_code == 422 and "page_size" in r.json["errors"]
