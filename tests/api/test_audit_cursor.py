"""The audit trail read by cursor, newest first: a walk lists every event once (events of the
same moment by id), a page by number agrees with it, a cursor the trail did not hand out is a
422 naming `cursor`, and a manager following an admin's cursor sees only its houses' events."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeSerializer

from factoryshare.models import AuditEvent, Role

URL = "/api/v1/audit"


@pytest.fixture()
def trail(db, make_house, make_user, token_for):  # type: ignore[no-untyped-def]
    ours, theirs = make_house(), make_house()
    moment = dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)
    events = []
    for i, (minutes, house) in enumerate(
        [(0, ours), (5, theirs), (5, ours), (5, ours), (9, theirs), (12, ours), (30, ours)]
    ):
        event = AuditEvent(
            at=moment + dt.timedelta(minutes=minutes),
            action="booking.created",
            object_type="bookings",
            object_id=str(i + 1),
            before=None,
            after={"id": i + 1},
            house_id=house.id,
        )
        db.add(event)
        db.flush()
        events.append(event)
    newest_first = sorted(events, key=lambda e: (e.at, e.id), reverse=True)
    return {
        "order": [e.id for e in newest_first],
        "ours": {e.id for e in events if e.house_id == ours.id},
        "admin": token_for(make_user(Role.admin)),
        "manager": token_for(make_user(Role.manager, houses=[ours])),
    }


def _walk(client, headers, size, **query):  # type: ignore[no-untyped-def]
    seen = []
    r = client.get(URL, headers=headers, query_string={**query, "page_size": size})
    for _ in range(50):
        assert r.status_code == 200, r.json
        seen += [e["id"] for e in r.json["items"]]
        if r.json["next"] is None:
            return seen
        query["cursor"] = r.json["next"]
        r = client.get(URL, headers=headers, query_string={**query, "page_size": size})
    raise AssertionError(f"the walk does not end: {seen}")


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_cursor_walk_lists_the_trail_once_newest_first_as_pages_by_number_do(client, trail, size):  # type: ignore[no-untyped-def]
    walked = _walk(client, trail["admin"], size, object_type="bookings")
    assert walked == trail["order"]
    by_number = []
    for page in range(1, len(trail["order"]) // size + 2):
        r = client.get(
            URL,
            headers=trail["admin"],
            query_string={"object_type": "bookings", "page": page, "page_size": size},
        )
        assert r.json["total"] == len(trail["order"]) and r.json["total_capped"] is False
        by_number += [e["id"] for e in r.json["items"]]
    assert by_number == walked


def test_a_manager_following_an_admins_audit_cursor_sees_only_its_houses_events(client, trail):  # type: ignore[no-untyped-def]
    r = client.get(
        URL, headers=trail["admin"], query_string={"object_type": "bookings", "page_size": 1}
    )
    after = trail["order"].index(r.json["items"][0]["id"])
    r = client.get(
        URL,
        headers=trail["manager"],
        query_string={"object_type": "bookings", "cursor": r.json["next"], "page_size": 100},
    )
    assert [e["id"] for e in r.json["items"]] == [
        i for i in trail["order"][after + 1 :] if i in trail["ours"]
    ]


def test_a_bookings_cursor_is_not_an_audit_cursor(app, client, trail):  # type: ignore[no-untyped-def]
    bookings = URLSafeSerializer(app.secret_key, salt="factoryshare.cursor.bookings")
    audit = URLSafeSerializer(app.secret_key, salt="factoryshare.cursor.audit")
    moment = "2026-11-30T08:05:00+00:00"
    assert client.get(
        URL, headers=trail["admin"], query_string={"cursor": audit.dumps([moment, 1])}
    ).json["items"]
    for cursor in (bookings.dumps([moment, 1]), "garbage"):
        r = client.get(URL, headers=trail["admin"], query_string={"cursor": cursor})
        assert r.status_code == 422 and "cursor" in r.json["errors"], r.json
