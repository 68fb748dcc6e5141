"""Closures and changes of opening hours, slot grid and zone over live bookings, through the API:
`?dry_run=true` previews, the default refuses (409 bookings_affected), `affected=cancel` cancels
and tells each member."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare.models import Role
from factoryshare.models.notifications import Notification
from tests.factories.bookings import at, working_day

SHORT_HOURS = {day: [["08:00", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture()
def scene(client, make_machine, make_member, make_user, token_for):
    machine = make_machine(capabilities=["sewing"])
    make_machine(house=machine.house, capabilities=["sewing"])
    member_user = make_user(Role.member, member=make_member(house_id=machine.house_id))
    member = token_for(member_user)
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    day = working_day()

    def book(start: str, end: str) -> dict:
        r = client.post(
            "/api/v1/bookings",
            json={
                "machine_id": machine.id,
                "start": at(day, start).isoformat(),
                "end": at(day, end).isoformat(),
            },
            headers=member,
        )
        assert r.status_code == 201, r.json
        return r.json

    return machine.house, member_user, member, manager, day, book


def _closure(house, day):  # type: ignore[no-untyped-def]
    return (
        "post",
        f"/api/v1/houses/{house.id}/closures",
        {"start_on": day.isoformat(), "end_on": day.isoformat(), "reason": "renovasi"},
    )


def _patch(values):  # type: ignore[no-untyped-def]
    return lambda house, day: ("patch", f"/api/v1/houses/{house.id}", values)


CHANGES = {
    # name: (the request, the booking it hits, one it spares)
    "closure": (_closure, None, None),
    "opening_hours": (
        _patch({"opening_hours": SHORT_HOURS}),
        ("14:00", "15:00"),
        ("09:00", "10:00"),
    ),
    "slot_minutes": (_patch({"slot_minutes": 60}), ("09:30", "10:30"), ("11:00", "12:00")),
    # 16:00-17:00 WIB is 17:00-18:00 WITA, after closing time in the new zone.
    "timezone": (_patch({"timezone": "Asia/Makassar"}), ("16:00", "17:00"), ("09:00", "10:00")),
}


def _send(client, name, house, day, headers, query=""):  # type: ignore[no-untyped-def]
    method, url, body = CHANGES[name][0](house, day)
    return getattr(client, method)(url + query, json=body, headers=headers)


def _bookings(name, book):  # type: ignore[no-untyped-def]
    if name == "closure":
        return book("09:00", "10:00"), None
    return book(*CHANGES[name][1]), book(*CHANGES[name][2])


def _status(client, booking, headers):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).json["status"]


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_manager_previews_the_bookings_a_calendar_change_would_hit_and_nothing_changes(
    client, scene, change
):
    house, _, member, manager, day, book = scene
    hit, spared = _bookings(change, book)
    before = client.get(f"/api/v1/houses/{house.id}", headers=manager).json

    r = _send(client, change, house, day, manager, "?dry_run=true")

    assert r.status_code == 200, r.json
    assert r.json["dry_run"] is True
    [item] = r.json["affected"]
    assert item["booking_id"] == hit["id"]
    assert item["source"] == "direct" and item["machine"] and item["member"]
    assert item["action"] is None
    assert item["start"][11:16] == ("17:00" if change == "timezone" else hit["start"][11:16])
    assert client.get(f"/api/v1/houses/{house.id}", headers=manager).json == before
    assert client.get(f"/api/v1/houses/{house.id}/closures", headers=manager).json["items"] == []
    assert _status(client, hit, member) == "confirmed"


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_over_live_bookings_is_refused_with_409_naming_them(
    client, scene, change
):
    house, _, member, manager, day, book = scene
    hit, _ = _bookings(change, book)

    r = _send(client, change, house, day, manager)

    assert r.status_code == 409, r.json
    assert r.json["code"] == "bookings_affected"
    assert [b["booking_id"] for b in r.json["details"]["bookings"]] == [hit["id"]]
    assert client.get(f"/api/v1/houses/{house.id}/closures", headers=manager).json["items"] == []
    assert _status(client, hit, member) == "confirmed"


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_calendar_change_with_affected_cancel_cancels_and_tells_the_member_with_alternatives(
    client, db, scene, change
):
    house, member_user, member, manager, day, book = scene
    hit, spared = _bookings(change, book)

    r = _send(client, change, house, day, manager, "?affected=cancel")

    assert r.status_code == (201 if change == "closure" else 200), r.json
    assert r.json["dry_run"] is False
    [item] = r.json["affected"]
    assert (item["booking_id"], item["action"]) == (hit["id"], "cancelled")
    assert item["alternatives"]
    assert _status(client, hit, member) == "cancelled"
    if spared is not None:
        assert _status(client, spared, member) == "confirmed"
    notes = db.scalars(
        select(Notification).where(
            Notification.user_id == member_user.id,
            Notification.template == "booking_calendar_change",
        )
    ).all()
    assert [n.context["booking_id"] for n in notes] == [hit["id"]]
    assert notes[0].context["alternatives"]
    assert r.json["replan_run_id"] is None


def test_without_live_bookings_a_closure_is_made_as_before(client, scene):
    house, _, _, manager, day, _ = scene
    r = client.post(
        f"/api/v1/houses/{house.id}/closures",
        json={"start_on": day.isoformat(), "end_on": (day + dt.timedelta(days=1)).isoformat()},
        headers=manager,
    )
    assert r.status_code == 201, r.json
    assert r.json["id"] and r.json["affected"] == []


def test_a_member_cannot_preview_a_closure(client, scene):
    house, _, member, _, day, _ = scene
    r = _send(client, "closure", house, day, member, "?dry_run=true")
    assert r.status_code == 403


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Atlantis"])
def test_a_zone_outside_indonesia_is_refused_on_update_and_on_create(
    client, scene, make_user, token_for, zone
):
    house, _, _, manager, _, _ = scene
    r = client.patch(f"/api/v1/houses/{house.id}", json={"timezone": zone}, headers=manager)
    assert r.status_code == 422 and "timezone" in r.json["errors"]
    r = client.post(
        "/api/v1/houses",
        json={"name": "RPB Baru", "timezone": zone, "opening_hours": SHORT_HOURS},
        headers=token_for(make_user(Role.admin)),
    )
    assert r.status_code == 422 and "timezone" in r.json["errors"]


def test_an_unknown_affected_choice_is_refused(client, scene):
    house, _, _, manager, day, _ = scene
    r = _send(client, "closure", house, day, manager, "?affected=keep")
    assert r.status_code == 422
