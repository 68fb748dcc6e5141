from factoryshare.models import Role

URL = "/api/v1/products"


def _body(**overrides):
    body = {
        "name": "Keripik Singkong",
        "sector": "culinary",
        "kind": "processed_food",
        "unit": "kg",
        "family": "halal",
        "routing": [
            {"capability": "slicing", "minutes_per_unit": 2},
            {
                "capability": "vacuum_frying",
                "setup_minutes": 30,
                "minutes_per_unit": 6,
                "min_lag_minutes": 20,
            },
        ],
    }
    body.update(overrides)
    return body


def _caps(make_capability):
    for code in ("slicing", "vacuum_frying"):
        make_capability(code=code, name=code)


def test_a_member_creates_a_product_and_reads_its_routing_back(
    client, make_user, make_capability, token_for
):
    _caps(make_capability)
    headers = token_for(make_user(Role.member))
    r = client.post(URL, json=_body(), headers=headers)
    assert r.status_code == 201, r.json
    r = client.get(f"{URL}/{r.json['id']}", headers=headers)
    assert [s["capability"] for s in r.json["routing"]] == ["slicing", "vacuum_frying"]
    assert r.json["family"] == "halal"


def test_an_unknown_capability_is_a_422_naming_the_step(
    client, make_user, make_capability, token_for
):
    _caps(make_capability)
    body = _body()
    body["routing"].append({"capability": "magic", "minutes_per_unit": 1})
    r = client.post(URL, json=body, headers=token_for(make_user(Role.member)))
    assert r.status_code == 422
    assert "routing[2].capability" in r.json["errors"]


def test_the_routing_is_replaced_in_one_put(client, make_user, make_capability, token_for):
    _caps(make_capability)
    headers = token_for(make_user(Role.member))
    product_id = client.post(URL, json=_body(), headers=headers).json["id"]
    r = client.put(
        f"{URL}/{product_id}/routing",
        json={"steps": [{"capability": "vacuum_frying", "minutes_per_unit": 4}]},
        headers=headers,
    )
    assert r.status_code == 200, r.json
    assert [(s["position"], s["capability"]) for s in r.json["routing"]] == [(1, "vacuum_frying")]


def test_another_members_product_is_not_found(client, make_user, make_product, token_for):
    product = make_product()
    r = client.get(f"{URL}/{product.id}", headers=token_for(make_user(Role.member)))
    assert r.status_code == 404


def test_an_aggregator_may_not_create_products(client, make_user, token_for):
    r = client.post(URL, json=_body(member_id=1), headers=token_for(make_user(Role.aggregator)))
    assert r.status_code == 403


def test_a_member_deletes_its_product_and_it_is_gone(client, make_user, make_product, token_for):
    user = make_user(Role.member)
    product = make_product(member_id=user.member_id)
    other = make_product()
    headers = token_for(user)
    assert client.delete(f"{URL}/{product.id}", headers=headers).status_code == 204
    assert client.get(f"{URL}/{product.id}", headers=headers).status_code == 404
    assert client.delete(f"{URL}/{other.id}", headers=headers).status_code == 404
