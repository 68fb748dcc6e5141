"""The bookings list read by cursor: every page hands out `next`, the page after it continues in
the same order (under way and to start soonest first, then the past latest first), each booking
exactly once, at the same statement cost wherever the page lies; a cursor is only what the list
gave out, and it shows nothing outside the caller's scope. A page by number stays, bounded: its
`total` is counted up to a cap and it reaches a fixed depth."""

# ruff: noqa: F811  (the imported count_statements fixture is a test parameter)
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from tests.api.test_statement_budgets import count_statements  # noqa: F401  (a fixture)

URL = "/api/v1/bookings"
HOUR = dt.timedelta(hours=1)


@pytest.fixture()
def listed(
    clock, db, make_house, make_machine, make_member, make_user, token_for
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two members' bookings on two machines of one house around now (never within half an
    hour of it): under way (one of them six days long), to start (two at the same moment),
    past (two at the same moment, one cancelled), and the list's order as the rule says."""
    house = make_house()
    machines = [make_machine(house=house), make_machine(house=house)]
    a, b = make_member(house=house), make_member(house=house)
    now = clock.now()
    made = [
        # (member, machine, hours from now to start, hours long, status)
        (a, 0, -2.5, 4, BookingStatus.confirmed),  # under way
        (b, 1, -6 * 24 + 0.5, 6 * 24, BookingStatus.confirmed),  # under way, six days long
        (a, 1, -1.5, 3, BookingStatus.cancelled),  # under way, cancelled
        (b, 0, 5.5, 1, BookingStatus.confirmed),  # to start, same moment as the next
        (a, 1, 5.5, 1, BookingStatus.held),
        (a, 0, 30.5, 2, BookingStatus.confirmed),
        (b, 0, 200.5, 1, BookingStatus.confirmed),
        (a, 0, -4.5, 1, BookingStatus.completed),  # past, same moment as the next
        (b, 1, -4.5, 2, BookingStatus.no_show),
        (a, 0, -50.5, 3, BookingStatus.completed),
        (b, 0, -400.5, 1, BookingStatus.cancelled),
        (a, 1, -9000.5, 1, BookingStatus.completed),
    ]
    bookings = []
    for member, machine, start_in, hours, status in made:
        start = now + dt.timedelta(hours=start_in)
        booking = Booking(
            machine_id=machines[machine].id,
            member_id=member.id,
            start_at=start,
            end_at=start + hours * HOUR,
            status=status,
            price=50_000,
            hourly_rate=50_000,
            note="",
        )
        db.add(booking)
        db.flush()
        bookings.append(booking)
    under_way = [x for x in bookings if x.start_at <= now < x.end_at]
    future = [x for x in bookings if x.start_at > now]
    past = [x for x in bookings if x.end_at <= now]
    order = (
        sorted(under_way, key=lambda x: (x.start_at, x.id))
        + sorted(future, key=lambda x: (x.start_at, x.id))
        + sorted(past, key=lambda x: (x.start_at, x.id), reverse=True)
    )
    members = {a.id: "a", b.id: "b"}
    return {
        "order": [x.id for x in order],
        "of": {x.id: members[x.member_id] for x in bookings},
        "admin": token_for(make_user(Role.admin)),
        "english": token_for(make_user(Role.admin, language="en")),
        "a": token_for(make_user(Role.member, member=a)),
        "b": token_for(make_user(Role.member, member=b)),
        "manager": token_for(make_user(Role.manager, houses=[house])),
    }


def _walk(client, headers: dict[str, str], size: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Page 1, then `next` after `next` until there is none (or more pages than bookings: a
    cursor that does not move on)."""
    seen: list[int] = []
    r = client.get(URL, headers=headers, query_string={"page_size": size})
    for _ in range(50):
        assert r.status_code == 200, r.json
        assert len(r.json["items"]) <= size
        seen += [b["id"] for b in r.json["items"]]
        if r.json["next"] is None:
            return seen
        assert len(r.json["items"]) == size
        r = client.get(
            URL, headers=headers, query_string={"cursor": r.json["next"], "page_size": size}
        )
        assert r.json["page"] is None and r.json["total"] is None
    raise AssertionError(f"the walk does not end: {seen}")


@pytest.mark.parametrize("size", [1, 2, 5, 100])
def test_a_cursor_walk_lists_every_booking_once_under_way_and_to_start_soonest_first_then_past_latest_first(
    client, listed, size
):  # type: ignore[no-untyped-def]
    assert _walk(client, listed["admin"], size) == listed["order"]
    assert _walk(client, listed["manager"], size) == listed["order"]
    mine = [i for i in listed["order"] if listed["of"][i] == "a"]
    assert _walk(client, listed["a"], size) == mine


def test_pages_by_number_and_by_cursor_list_the_same_bookings_in_the_same_order(client, listed):  # type: ignore[no-untyped-def]
    by_number: list[int] = []
    for page in range(1, 6):
        r = client.get(URL, headers=listed["admin"], query_string={"page": page, "page_size": 3})
        assert r.status_code == 200, r.json
        assert r.json["total"] == len(listed["order"]) and r.json["total_capped"] is False
        by_number += [b["id"] for b in r.json["items"]]
    assert by_number == listed["order"] == _walk(client, listed["admin"], 3)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "WyIyMDI2LTEyLTAxVDAwOjAwOjAwKzAwOjAwIiwgMCwgIjIwMjYiLCAxXQ",
        "",
        "x" * 600,
    ],
)
def test_a_cursor_the_list_did_not_hand_out_is_refused_naming_the_cursor(client, listed, cursor):  # type: ignore[no-untyped-def]
    r = client.get(URL, headers=listed["admin"], query_string={"cursor": cursor})
    assert r.status_code == 422, r.json
    assert r.json["errors"]["cursor"] == ["Bukan kursor yang diberikan oleh daftar ini."]
    r = client.get(URL, headers=listed["english"], query_string={"cursor": cursor})
    assert r.json["errors"]["cursor"] == ["Not a cursor this list handed out."]


def test_a_tampered_or_foreign_cursor_is_refused_naming_the_cursor(app, client, listed):  # type: ignore[no-untyped-def]
    given = client.get(URL, headers=listed["admin"], query_string={"page_size": 2}).json["next"]
    payload, signature = given.rsplit(".", 1)
    own = URLSafeSerializer(app.secret_key, salt="factoryshare.cursor.bookings")
    other = URLSafeSerializer(app.secret_key, salt="factoryshare.cursor.audit")
    moved = own.loads(given)
    moved[3] += 1
    for cursor in (
        payload + "." + signature[::-1],  # a signature that does not match
        URLSafeSerializer("another secret", salt="factoryshare.cursor.bookings").dumps(moved),
        other.dumps(own.loads(given)),  # another list's cursor
        own.dumps(["yesterday", 0, "noon", 1]),  # signed, but no position
        own.dumps([moved[0][:19], *moved[1:]]),  # a time without its offset
    ):
        r = client.get(URL, headers=listed["admin"], query_string={"cursor": cursor})
        assert r.status_code == 422, (cursor, r.json)
        assert "cursor" in r.json["errors"], r.json


def test_a_cursor_from_another_callers_list_shows_nothing_outside_ones_own_scope(client, listed):  # type: ignore[no-untyped-def]
    of = listed["of"]
    for giver in ("a", "admin"):
        r = client.get(URL, headers=listed[giver], query_string={"page_size": 1})
        after = listed["order"].index(r.json["items"][0]["id"])
        r = client.get(
            URL, headers=listed["b"], query_string={"cursor": r.json["next"], "page_size": 100}
        )
        assert r.status_code == 200, r.json
        # b's own list from the cursor's position on, and nothing of a's.
        ids = [b["id"] for b in r.json["items"]]
        assert ids == [i for i in listed["order"][after + 1 :] if of[i] == "b"] != []


def test_a_cursor_page_costs_the_same_statements_wherever_it_lies_and_counts_nothing(
    client, listed, count_statements
):  # type: ignore[no-untyped-def]
    counts = []
    for size in (1, 4):
        r = client.get(URL, headers=listed["admin"], query_string={"page_size": size})
        for _ in range(50):  # cursors in every part of the list, to the last page
            if r.json["next"] is None:
                break
            with count_statements() as counter:
                r = client.get(
                    URL,
                    headers=listed["admin"],
                    query_string={"cursor": r.json["next"], "page_size": size},
                )
            assert r.status_code == 200, r.json
            counts.append(len(counter.counted))
            assert not [s for s in counter.counted if "count(" in s.lower()], counter.counted
    assert len(counts) > 6 and len(set(counts)) == 1, counts


def test_the_total_of_a_page_by_number_is_counted_up_to_a_cap_and_says_so(
    client, listed, monkeypatch
):  # type: ignore[no-untyped-def]
    from factoryshare import paging

    monkeypatch.setattr(paging, "TOTAL_CAP", 5)
    r = client.get(URL, headers=listed["admin"], query_string={"page": 2, "page_size": 4})
    assert r.status_code == 200, r.json
    assert (r.json["total"], r.json["total_capped"]) == (5, True)
    assert [b["id"] for b in r.json["items"]] == listed["order"][4:8]  # the page is still whole
    r = client.get(URL, headers=listed["b"], query_string={"page_size": 4})
    assert (r.json["total"], r.json["total_capped"]) == (5, False)


def test_a_page_by_number_deeper_than_its_limit_is_refused_pointing_to_the_cursor(client, listed):  # type: ignore[no-untyped-def]
    r = client.get(URL, headers=listed["admin"], query_string={"page": 5001, "page_size": 20})
    assert r.status_code == 422, r.json
    assert r.json["errors"]["page"] == [
        "Terlalu dalam untuk nomor halaman: ikuti kursor di `next`."
    ]
    r = client.get(URL, headers=listed["admin"], query_string={"page": 5000, "page_size": 20})
    assert r.status_code == 200 and r.json["items"] == [] and r.json["next"] is None
