"""Hostile input gets a 4xx in the one error shape, never a 500 and never a half-written change.

A fuzz test walks EVERY write operation (POST/PUT/PATCH/DELETE) of the OpenAPI document and
sends it the inputs an attacker tries first: a lone surrogate and a NUL byte in each text
field, a 5,000-digit number and 2**63 in each integer field, 100,000 nested brackets and
bytes that are not UTF-8 as the body, and ids beyond 64 bits in the path. Each operation is
called by a role allowed to call it (an admin where admins may), on real objects, and the
row counts of every table must stay as they were. Read operations get the same treatment in
their query strings. The pages' forms, sign-in included, must not answer 500 either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import api.web
from factoryshare.db import Base
from factoryshare.models import Role
from tests.conftest import TEST_PASSWORD

HUGE = "9" * 5000  # Python refuses to parse more than 4,300 digits into an int
BEYOND_64_BITS = str(2**63)  # one more than the largest BIGINT
SURROGATE = "abc\ud800def"  # a lone surrogate: valid JSON escape, not encodable as UTF-8
NUL = "abc\u0000def"  # PostgreSQL refuses NUL in text
NESTED = "[" * 100_000 + "]" * 100_000
NOT_UTF8 = b'{"name": "\xff\xfe\xc3"}'
WRITE_METHODS = ("post", "put", "patch", "delete")

_NUMBER_MARK = "\x01number\x01"


# --- the world the operations act on ---------------------------------------------------------


@pytest.fixture()
def world(
    make_house,
    make_machine,
    make_member,
    make_product,
    make_user,
    make_booking,
    make_cluster,
    make_offtake_agreement,
    make_loan,
    make_permit,
    make_permit_override,
    make_production_request,
    token_for,
    make_lender,
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    house = make_house()
    machine = make_machine(house=house)
    member = make_member(house_id=house.id)
    product = make_product(member=member)
    booking = make_booking(machine=machine, member=member)
    cluster = make_cluster(members=[member], chair_member_id=member.id, house_id=house.id)
    agreement = make_offtake_agreement(cluster=cluster, product=product)
    bank = make_lender()
    loan = make_loan(cluster, until="approved", lender_id=bank.id)
    permit = make_permit(product)
    override = make_permit_override(product)
    request = make_production_request(product=product)
    users = {
        Role.admin: make_user(Role.admin),
        Role.manager: make_user(Role.manager, houses=[house]),
        Role.member: make_user(Role.member, member=member),
        Role.aggregator: make_user(Role.aggregator, aggregator=cluster.aggregator),
        Role.lender: make_user(Role.lender, lender=bank),
    }
    ids = {
        "house_id": house.id,
        "machine_id": machine.id,
        "member_id": member.id,
        "product_id": product.id,
        "booking_id": booking.id,
        "cluster_id": cluster.id,
        "agreement_id": agreement.id,
        "application_id": loan.id,
        "permit_id": permit.id,
        "override_id": override.id,
        "request_id": request.id,
        "number": 1,
        "capability_id": machine.capabilities[0].id,
        "user_id": users[Role.member].id,
        "aggregator_id": cluster.aggregator_id,
    }
    return {
        "ids": ids,
        "users": users,
        "headers": {role: token_for(user) for role, user in users.items()},
    }


@pytest.fixture()
def spec(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get("/api/v1/openapi.json").get_json()


def _row_counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


# --- reading the OpenAPI document ------------------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            return _resolve(spec, schema[key][0])
    return schema


def _leaves(
    spec: dict[str, Any], schema: dict[str, Any], depth: int = 0
) -> Iterator[tuple[str, Any]]:
    """(kind, wrap) for every text and integer leaf: wrap(value) is the JSON value that puts
    `value` at that leaf ('string' or 'integer')."""
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if depth > 4:
        return
    if kind in ("string", "integer") and "enum" not in schema and schema.get("format") != "binary":
        yield kind, lambda v: v
    elif kind == "array" and "items" in schema:
        for leaf_kind, wrap in _leaves(spec, schema["items"], depth + 1):
            yield leaf_kind, (lambda w: lambda v: [w(v)])(wrap)
    elif kind == "object" or "properties" in schema:
        for name, prop in schema.get("properties", {}).items():
            if prop.get("readOnly"):
                continue
            for leaf_kind, wrap in _leaves(spec, prop, depth + 1):
                yield leaf_kind, (lambda n, w: lambda v: {n: w(v)})(name, wrap)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for leaf_kind, wrap in _leaves(spec, extra, depth + 1):
                yield leaf_kind, (lambda w: lambda v: {"mon": w(v)})(wrap)


def _fields(spec: dict[str, Any], operation: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(top-level field, kind, wrap) of every leaf of the operation's JSON body."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return
    body = _resolve(spec, content["application/json"]["schema"])
    for name, prop in body.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        for kind, wrap in _leaves(spec, prop):
            yield name, kind, (lambda n, w: lambda v: {n: w(v)})(name, wrap)


def _operations(
    spec: dict[str, Any], methods: tuple[str, ...]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])  # path parameters sit on the path item
        for method, operation in item.items():
            if method in methods:
                yield (
                    method,
                    path,
                    dict(operation, parameters=shared + operation.get("parameters", [])),
                )


def _url(
    path: str, ids: dict[str, int], override: str | None = None, only: str | None = None
) -> str:
    """The path with real ids; `override` instead in every parameter (or in `only`)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if override is not None and only in (None, name):
            return override
        return str(ids.get(name, 1))

    return re.sub(r"\{(\w+)\}", value, path)


def _roles_for(app, method: str, path: str) -> list[Role]:  # type: ignore[no-untyped-def]
    """Who calls the operation: the widest role allowed (admin first), and a member too when
    members may call it (their scope takes other paths through the services)."""
    rule_path = re.sub(r"\{(\w+)\}", r"<\1>", path)
    for rule in app.url_map.iter_rules():
        if (
            re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule) == rule_path
            and method.upper() in rule.methods
        ):
            view = app.view_functions[rule.endpoint]
            handler = getattr(getattr(view, "view_class", None), method, view)
            roles = getattr(handler, "__roles__", None) or frozenset(Role)
            chosen = [
                r
                for r in (Role.admin, Role.manager, Role.member, Role.aggregator, Role.lender)
                if r in roles
            ][:1]
            if Role.member in roles and Role.member not in chosen:
                chosen.append(Role.member)
            return chosen
    return [Role.admin]


def _json_text(value: Any, number: str | None = None) -> str:
    if number is None:
        return json.dumps(value)  # ensure_ascii: "\ud800" and "\u0000" travel as escapes
    return json.dumps(value).replace(json.dumps(_NUMBER_MARK), number)


# --- what every answer must look like --------------------------------------------------------


def _assert_refused(response, what: str, field: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (
        f"{what}: {response.status_code} {response.data[:300]!r}"
    )
    body = response.get_json(silent=True)
    assert isinstance(body, dict), f"{what}: not JSON: {response.data[:300]!r}"
    assert isinstance(body.get("code"), str) and body["code"], what
    assert body.get("status") == response.status_code, what
    assert isinstance(body.get("message"), str) and body["message"], what
    assert isinstance(body.get("errors"), dict), what
    if response.status_code == 422:
        assert body["errors"], f"{what}: a validation error names no field: {body}"
    if field is not None:
        assert response.status_code == 422, f"{what}: {response.status_code} {body}"
        assert field in body["errors"], f"{what}: {field} not named in {body['errors']}"
    return body


# --- the fuzz tests --------------------------------------------------------------------------


def test_every_write_operation_refuses_hostile_input_with_a_4xx_naming_the_field_and_writes_nothing(
    app, client, db, spec, world
):  # type: ignore[no-untyped-def]
    before = _row_counts(db)
    operations = list(_operations(spec, WRITE_METHODS))
    assert len(operations) > 50, "the OpenAPI document lost its write operations"
    tried = 0
    for method, path, operation in operations:
        roles = _roles_for(app, method, path)
        headers = world["headers"][roles[0]]
        url = _url(path, world["ids"])
        send = getattr(client, method)
        for field, kind, wrap in _fields(spec, operation):
            if kind == "string":
                nasty = [(SURROGATE, None), (NUL, None)]
            else:
                nasty = [(_NUMBER_MARK, HUGE), (_NUMBER_MARK, BEYOND_64_BITS)]
            for role in roles:
                for value, number in nasty:
                    what = (
                        f"{role.value} {method.upper()} {path} {field}={(number or value)[:20]!r}"
                    )
                    response = send(
                        url,
                        data=_json_text(wrap(value), number),
                        headers=world["headers"][role],
                        content_type="application/json",
                    )
                    _assert_refused(response, what, field)
                    tried += 1
        for body, label in ((NESTED, "nested brackets"), (NOT_UTF8, "bytes not UTF-8")):
            response = send(url, data=body, headers=headers, content_type="application/json")
            body_json = _assert_refused(response, f"{method.upper()} {path} {label}")
            assert body_json["code"] == "invalid_json", (
                f"{method.upper()} {path} {label}: {body_json}"
            )
            tried += 1
        if "{" in path:
            for number in (HUGE, BEYOND_64_BITS):
                response = send(_url(path, world["ids"], number), json={}, headers=headers)
                _assert_refused(response, f"{method.upper()} {path} with the id {number[:20]}")
                tried += 1
    assert tried > 500
    assert _row_counts(db) == before


def test_every_read_operation_refuses_hostile_query_strings_with_a_4xx_naming_the_parameter(
    app, client, db, spec, world
):  # type: ignore[no-untyped-def]
    tried = 0
    for method, path, operation in _operations(spec, ("get",)):
        headers = world["headers"][_roles_for(app, method, path)[0]]
        for parameter in operation.get("parameters", []):
            if (
                parameter.get("in") == "path"
                and _resolve(spec, parameter.get("schema", {})).get("type") == "string"
            ):
                url = _url(path, world["ids"], "abc%00def", only=parameter["name"])
                response = client.get(url, headers=headers)
                _assert_refused(response, f"GET {path} with NUL in {parameter['name']}")
                tried += 1
            if parameter.get("in") != "query":
                continue
            schema = _resolve(spec, parameter.get("schema", {}))
            if schema.get("type") == "integer":
                nasty = [HUGE, BEYOND_64_BITS]
            elif schema.get("type") == "string" and "enum" not in schema:
                nasty = [NUL]
            else:
                continue
            for value in nasty:
                name = parameter["name"]
                response = client.get(
                    _url(path, world["ids"]), query_string={name: value}, headers=headers
                )
                what = f"GET {path}?{name}={value[:20]!r}"
                if response.status_code == 200 and schema.get("format") in ("date", "date-time"):
                    continue
                _assert_refused(response, what, name)
                tried += 1
        if "{" in path:
            for number in (HUGE, BEYOND_64_BITS):
                response = client.get(_url(path, world["ids"], number), headers=headers)
                _assert_refused(response, f"GET {path} with the id {number[:20]}")
                tried += 1
    assert tried > 50


# --- sign-in and the pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, password",
    [
        (SURROGATE, TEST_PASSWORD),
        ("a@example.id", SURROGATE),
        (NUL, TEST_PASSWORD),
        ("a@example.id", NUL),
    ],
)
def test_signing_in_with_hostile_text_answers_422_naming_the_field(
    client, make_user, email, password
):  # type: ignore[no-untyped-def]
    make_user(Role.member, email="a@example.id")
    response = client.post(
        "/api/v1/auth/token",
        data=_json_text({"email": email, "password": password}),
        content_type="application/json",
    )
    field = "email" if email != "a@example.id" else "password"
    _assert_refused(response, "sign-in", field)


def _csrf(client, url: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.mark.parametrize("field", ["email", "password"])
def test_the_login_page_refuses_a_nul_byte_without_a_server_error(client, make_user, field):  # type: ignore[no-untyped-def]
    make_user(Role.member, email="b@example.id")
    form = {
        "email": "b@example.id",
        "password": TEST_PASSWORD,
        "csrf_token": _csrf(client, "/login"),
    }
    form[field] = form[field] + "\x00"
    response = client.post("/login", data=form)
    assert response.status_code == 400, response.data[:300]
    assert f"“{field}”" in response.get_data(as_text=True)


_WEB_SOURCES = sorted((Path(api.web.__file__).parent).glob("*.py"))
_WEB_FIELDS = sorted(
    {
        name
        for path in _WEB_SOURCES
        for name in re.findall(r"request\.(?:form|args|values)\.get\(\"(\w+)\"", path.read_text())
    }
)
_WEB_SKIP = {"web.logout", "web.static"}


def _signed_in_page_client(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "csrf_token": _csrf(client, "/login"),
        },
    )
    assert response.status_code in (302, 303), response.data[:300]
    return client, _csrf(client, response.headers["Location"])


def test_no_page_answers_500_to_hostile_form_or_query_values(app, world, make_user):  # type: ignore[no-untyped-def]
    """Every page of every role gets a NUL byte, 5,000 digits and 2**63 in every field the
    pages read; a NUL byte is refused with 400 before the page does anything."""
    assert len(_WEB_FIELDS) > 20, _WEB_FIELDS
    ids = dict(world["ids"], user_id=make_user(Role.member).id, run_id=1, downtime_id=1)
    tried = 0
    for role, user in world["users"].items():
        client, token = _signed_in_page_client(app, user)
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("web.") or rule.endpoint in _WEB_SKIP:
                continue
            roles = getattr(app.view_functions[rule.endpoint], "__roles__", None)
            if roles is not None and role not in roles:
                continue
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)
            for value in ("abc\x00def", HUGE, BEYOND_64_BITS):
                fields = {name: value for name in _WEB_FIELDS}
                answers = []
                if "GET" in rule.methods:
                    answers.append(("GET", client.get(url, query_string=fields)))
                if "POST" in rule.methods:
                    answers.append(("POST", client.post(url, data=dict(fields, csrf_token=token))))
                for method, response in answers:
                    what = f"{role.value} {method} {url} with {value[:20]!r}"
                    assert response.status_code < 500, f"{what}: {response.data[:300]!r}"
                    if "\x00" in value:
                        assert response.status_code == 400, f"{what}: {response.status_code}"
                    tried += 1
    assert tried > 50


# --- what would reach the database anyway ----------------------------------------------------


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("name", "x" * 121, "At most 120 characters."),  # VARCHAR(120)
        ("slot_minutes", 2**31, "Must be between -2147483648 and 2147483647."),  # INTEGER: 32 bits
        ("name", "abc\x00def", "Text may not contain the NUL character (\\u0000)."),
        (
            "name",
            "abc\ud800def",
            "Text may not contain a lone surrogate (an unpaired \\ud800-\\udfff escape).",
        ),
        (
            "opening_hours",
            {"mon": [["08:00\x00", "12:00"]]},
            "Text may not contain the NUL character (\\u0000).",
        ),
    ],
)
def test_a_value_the_database_would_refuse_is_refused_naming_the_column(
    db, make_house, field, value, problem
):  # type: ignore[no-untyped-def]
    from factoryshare.errors import ValidationFailed

    house = make_house()
    setattr(house, field, value)
    with pytest.raises(ValidationFailed) as refused:
        db.flush()
    assert refused.value.errors == {field: [problem]}
