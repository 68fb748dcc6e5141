from factoryshare.models import Role

URL = "/api/v1/production-requests"


def _body(product, **overrides):
    body = {
        "product_id": product.id,
        "quantity": 10,
        "earliest_start": "2027-01-04T08:00:00+07:00",
        "due": "2027-01-08T17:00:00+07:00",
        "priority": 3,
    }
    body.update(overrides)
    return body


def test_a_member_requests_production_and_reads_it_back_in_the_houses_time(
    client, make_user, make_product, token_for
):
    product = make_product(routing=[("sewing", 15, 5)])
    user = make_user(Role.member, member=product.member)
    headers = token_for(user)
    r = client.post(URL, json=_body(product), headers=headers)
    assert r.status_code == 201, r.json
    assert r.json["operations"] == [
        {"position": 1, "capability": "sewing", "minutes": 65, "min_lag_minutes": 0}
    ]
    r = client.get(f"{URL}/{r.json['id']}", headers=headers)
    assert r.json["status"] == "open"
    assert r.json["earliest_start"].endswith("+07:00")
    assert [x["id"] for x in client.get(URL, headers=headers).json["items"]] == [r.json["id"]]


def test_a_due_date_without_an_offset_is_a_422_naming_due(
    client, make_user, make_product, token_for
):
    product = make_product()
    headers = token_for(make_user(Role.member, member=product.member))
    r = client.post(URL, json=_body(product, due="2027-01-08T17:00:00"), headers=headers)
    assert r.status_code == 422
    assert "due" in r.json["errors"]


def test_another_members_request_is_not_found(
    client, make_user, make_production_request, token_for
):
    request = make_production_request()
    r = client.get(f"{URL}/{request.id}", headers=token_for(make_user(Role.member)))
    assert r.status_code == 404


def test_an_aggregator_may_not_request_production(client, make_user, make_product, token_for):
    r = client.post(URL, json=_body(make_product()), headers=token_for(make_user(Role.aggregator)))
    assert r.status_code == 403


def test_the_manager_cancels_a_request_and_a_second_cancel_is_a_409(
    client, make_user, make_production_request, token_for, db
):
    from factoryshare.models import ProductionHouse

    request = make_production_request()
    manager = make_user(Role.manager, houses=[db.get(ProductionHouse, request.house_id)])
    headers = token_for(manager)
    r = client.post(f"{URL}/{request.id}/cancel", headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled"
    assert client.post(f"{URL}/{request.id}/cancel", headers=headers).status_code == 409


def test_a_retried_request_with_the_same_idempotency_key_is_made_only_once(
    client, make_user, make_product, token_for
):
    product = make_product()
    headers = dict(
        token_for(make_user(Role.member, member=product.member)), **{"Idempotency-Key": "pr-1"}
    )
    first = client.post(URL, json=_body(product), headers=headers)
    again = client.post(URL, json=_body(product), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert len(client.get(URL, headers=headers).json["items"]) == 1
