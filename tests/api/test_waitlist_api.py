from sqlalchemy import select

from factoryshare.models import Role
from factoryshare.models.notifications import Notification
from tests.factories.bookings import at, working_day

URL = "/api/v1/waitlist"


def _member(make_member, make_user, token_for, machine, language="id"):
    user = make_user(Role.member, member=make_member(house_id=machine.house_id), language=language)
    return token_for(user), user


def _slot(day, start="09:00", end="10:00"):
    return at(day, start).isoformat(), at(day, end).isoformat()


def _messages(db, user):
    return list(
        db.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.template == "waitlist_slot_free"
            )
        )
    )


def test_when_a_taken_slot_frees_the_member_who_waited_first_is_told_and_only_they(
    client, db, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    holder, _ = _member(make_member, make_user, token_for, machine)
    first, first_user = _member(make_member, make_user, token_for, machine, language="en")
    second, second_user = _member(make_member, make_user, token_for, machine)
    start, end = _slot(working_day())
    booking = client.post(
        "/api/v1/bookings",
        json={"machine_id": machine.id, "start": start, "end": end},
        headers=holder,
    ).json
    body = {"machine_id": machine.id, "start": start, "end": end}
    a = client.post(URL, json=body, headers=first)
    b = client.post(URL, json=body, headers=second)
    assert a.status_code == 201 and b.status_code == 201, (a.json, b.json)
    assert (a.json["status"], a.json["position"]) == ("waiting", 1)
    assert b.json["position"] == 2

    assert (
        client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=holder).status_code
        == 200
    )

    told = _messages(db, first_user)
    assert len(told) == 1
    assert machine.name in told[0].subject and "09:00" in told[0].body and "WIB" in told[0].body
    assert _messages(db, second_user) == []
    assert client.get(f"{URL}/{a.json['id']}", headers=first).json["status"] == "notified"
    waiting = client.get(f"{URL}/{b.json['id']}", headers=second).json
    assert (waiting["status"], waiting["position"]) == ("waiting", 1)


def test_a_booking_moved_away_frees_its_slot_for_the_waiting_member(
    client, db, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    holder, _ = _member(make_member, make_user, token_for, machine)
    waiter, waiter_user = _member(make_member, make_user, token_for, machine)
    day = working_day()
    start, end = _slot(day)
    booking = client.post(
        "/api/v1/bookings",
        json={"machine_id": machine.id, "start": start, "end": end},
        headers=holder,
    ).json
    client.post(URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter)
    new_start, new_end = _slot(day, "13:00", "14:00")
    assert (
        client.patch(
            f"/api/v1/bookings/{booking['id']}",
            json={"start": new_start, "end": new_end},
            headers=holder,
        ).status_code
        == 200
    )
    assert len(_messages(db, waiter_user)) == 1


def test_a_slot_still_partly_taken_tells_nobody(
    client, db, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    holder, _ = _member(make_member, make_user, token_for, machine)
    waiter, waiter_user = _member(make_member, make_user, token_for, machine)
    day = working_day()
    first = client.post(
        "/api/v1/bookings",
        json={
            "machine_id": machine.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "10:00").isoformat(),
        },
        headers=holder,
    ).json
    make_booking(machine=machine, start_at=at(day, "10:00"), end_at=at(day, "11:00"))
    start, end = _slot(day, "09:00", "11:00")
    assert (
        client.post(
            URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter
        ).status_code
        == 201
    )
    client.post(f"/api/v1/bookings/{first['id']}/cancel", json={}, headers=holder)
    assert _messages(db, waiter_user) == []


def test_waiting_for_a_free_slot_or_twice_for_the_same_one_is_refused_with_a_code(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    waiter, _ = _member(make_member, make_user, token_for, machine)
    day = working_day()
    start, end = _slot(day)
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter
    )
    assert (r.status_code, r.json["code"]) == (409, "slot_free")
    make_booking(machine=machine, start_at=at(day, "09:00"), end_at=at(day, "10:00"))
    assert (
        client.post(
            URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter
        ).status_code
        == 201
    )
    r = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter
    )
    assert (r.status_code, r.json["code"]) == (409, "already_waiting")
    r = client.post(
        URL,
        json={"machine_id": machine.id, "start": at(day, "09:10").isoformat(), "end": end},
        headers=waiter,
    )
    assert r.status_code == 422 and "start" in r.json["errors"]


def test_a_member_who_left_the_waitlist_is_not_told_and_others_cannot_see_its_entry(
    client, db, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    holder, _ = _member(make_member, make_user, token_for, machine)
    waiter, waiter_user = _member(make_member, make_user, token_for, machine)
    stranger, _ = _member(make_member, make_user, token_for, machine)
    start, end = _slot(working_day())
    booking = client.post(
        "/api/v1/bookings",
        json={"machine_id": machine.id, "start": start, "end": end},
        headers=holder,
    ).json
    entry = client.post(
        URL, json={"machine_id": machine.id, "start": start, "end": end}, headers=waiter
    ).json
    assert client.get(f"{URL}/{entry['id']}", headers=stranger).status_code == 404
    assert client.post(f"{URL}/{entry['id']}/cancel", headers=stranger).status_code == 404
    left = client.post(f"{URL}/{entry['id']}/cancel", headers=waiter)
    assert left.status_code == 200 and left.json["status"] == "cancelled"
    client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=holder)
    assert _messages(db, waiter_user) == []


def test_a_manager_sees_the_waitlist_of_its_house_only(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    other_machine = make_machine()
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    waiter, _ = _member(make_member, make_user, token_for, machine)
    day = working_day()
    make_booking(machine=machine, start_at=at(day, "09:00"), end_at=at(day, "10:00"))
    entry = client.post(
        URL,
        json={"machine_id": machine.id, "start": _slot(day)[0], "end": _slot(day)[1]},
        headers=waiter,
    ).json
    items = client.get(URL, headers=manager).json["items"]
    assert [i["id"] for i in items] == [entry["id"]]
    other_manager = token_for(make_user(Role.manager, houses=[other_machine.house]))
    assert client.get(f"{URL}/{entry['id']}", headers=other_manager).status_code == 404


def test_a_managers_page_of_the_waitlist_numbers_each_queue_of_a_slot_on_its_own(
    client, db, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    holder, _ = _member(make_member, make_user, token_for, machine)
    day = working_day()
    early, late = _slot(day), _slot(day, "14:00", "15:00")
    for start, end in (early, late):
        r = client.post(
            "/api/v1/bookings",
            json={"machine_id": machine.id, "start": start, "end": end},
            headers=holder,
        )
        assert r.status_code == 201, r.json
    for slot in (early, early, late, early):
        headers, _ = _member(make_member, make_user, token_for, machine)
        body = {"machine_id": machine.id, "start": slot[0], "end": slot[1]}
        assert client.post(URL, json=body, headers=headers).status_code == 201
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    page = client.get(URL, headers=manager, query_string={"machine_id": machine.id}).json
    # Listed by slot: the three waiting for 09:00 in the order they joined, then the one for 14:00.
    assert [e["position"] for e in page["items"]] == [1, 2, 3, 1]
