from factoryshare.models import Role


def _setting(make_user, make_aggregator, make_cluster, make_member):
    aggregator = make_aggregator(approval_limit=500_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    return (
        cluster,
        make_user(Role.member, member=chair),
        make_user(Role.aggregator, aggregator=aggregator),
    )


def test_a_chair_applies_the_aggregator_endorses_and_the_lender_approves(
    client, make_user, make_aggregator, make_cluster, make_member, token_for, make_clock
):
    cluster, chair, endorser = _setting(make_user, make_aggregator, make_cluster, make_member)
    lender = make_user(Role.lender)
    r = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair),
        json={
            "cluster_id": cluster.id,
            "requested_amount": 50_000_000,
            "tenor_months": 36,
            "lender_id": lender.lender_id,
        },
    )
    assert r.status_code == 201, r.json
    app_id = r.json["id"]
    base = f"/api/v1/loan-applications/{app_id}"

    assert client.post(f"{base}/submit", headers=token_for(chair), json={}).status_code == 200
    r = client.post(f"{base}/approve", headers=token_for(endorser), json={})
    assert r.status_code == 200 and r.json["status"] == "approved"
    r = client.post(
        f"{base}/lender-decision",
        headers=token_for(lender),
        json={"approved": True, "reference": "KUR/2026/0042"},
    )
    assert r.json["status"] == "lender_approved"
    schedule = client.get(f"{base}/schedule", headers=token_for(chair)).json
    assert schedule[0]["amount"] == 1_521_097 and schedule[-1]["amount"] == 1_521_093
    # The whole loan paid out at once (nothing is owed before money is paid out).
    assert (
        client.post(
            f"{base}/disburse", headers=token_for(lender), json={"amount": 50_000_000}
        ).status_code
        == 200
    )
    installments = client.get(f"{base}/installments?page_size=100", headers=token_for(chair)).json[
        "items"
    ]
    assert len(installments) == 36 and installments[-1]["amount"] == 1_521_093
    assert installments[0]["status"] == "due"
    r = client.post(
        f"{base}/installments/1/repayments", headers=token_for(endorser), json={"amount": 1_521_097}
    )
    assert r.status_code == 201 and r.json["status"] == "paid"
    r = client.post(
        f"{base}/installments/2/repayments", headers=token_for(endorser), json={"amount": 9_000_000}
    )
    assert r.status_code == 422 and "amount" in r.json["errors"]


def test_approving_a_draft_is_a_409_and_a_member_cannot_approve(
    client, make_user, make_aggregator, make_cluster, make_member, token_for
):
    cluster, chair, endorser = _setting(make_user, make_aggregator, make_cluster, make_member)
    app_id = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair),
        json={"cluster_id": cluster.id, "requested_amount": 5_000_000, "tenor_months": 12},
    ).json["id"]

    r = client.post(
        f"/api/v1/loan-applications/{app_id}/approve", headers=token_for(endorser), json={}
    )
    assert r.status_code == 409 and r.json["code"] == "invalid_transition"
    r = client.post(
        f"/api/v1/loan-applications/{app_id}/approve", headers=token_for(chair), json={}
    )
    assert r.status_code == 403


def test_an_amount_above_the_cluster_ceiling_is_a_422_naming_the_field(
    client, make_user, make_aggregator, make_cluster, make_member, token_for
):
    cluster, chair, _ = _setting(make_user, make_aggregator, make_cluster, make_member)
    r = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair),
        json={"cluster_id": cluster.id, "requested_amount": 900_000_000, "tenor_months": 12},
    )
    assert r.status_code == 422
    assert "requested_amount" in r.json["errors"]


def test_the_ceiling_is_named_in_rupiah_in_the_callers_language(
    client, make_user, make_aggregator, make_cluster, make_member, token_for
):
    cluster, chair, _ = _setting(make_user, make_aggregator, make_cluster, make_member)
    body = {"cluster_id": cluster.id, "requested_amount": 900_000_000, "tenor_months": 12}
    said = {}
    for language in ("id", "en"):
        chair.language = language  # a signed-in person reads their own setting's language
        r = client.post("/api/v1/loan-applications", headers=token_for(chair), json=body)
        assert r.status_code == 422
        said[language] = r.json["errors"]["requested_amount"][0]
    assert "meminjamkan paling banyak Rp" in said["id"], said
    assert "lends at most Rp" in said["en"], said
    # The amount reads the Indonesian way in both: Rp500.000.000, never 500,000,000.
    assert all("Rp" in text and ",000" not in text for text in said.values()), said


def test_an_outsider_gets_404_for_someone_elses_application(
    client, make_user, make_aggregator, make_cluster, make_member, token_for
):
    cluster, chair, _ = _setting(make_user, make_aggregator, make_cluster, make_member)
    app_id = client.post(
        "/api/v1/loan-applications",
        headers=token_for(chair),
        json={"cluster_id": cluster.id, "requested_amount": 5_000_000, "tenor_months": 12},
    ).json["id"]

    r = client.get(
        f"/api/v1/loan-applications/{app_id}", headers=token_for(make_user(Role.aggregator))
    )
    assert r.status_code == 404
