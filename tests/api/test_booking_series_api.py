import datetime as dt

from factoryshare import clock as product_clock
from factoryshare.models import Role
from factoryshare.services import calendar
from tests.factories.bookings import at, working_day

URL = "/api/v1/booking-series"


def _clear_weekday(weeks: int) -> dt.date:
    """A working day whose next `weeks` same weekdays are all working days too."""
    day = working_day()
    while any(calendar.holiday_name(day + dt.timedelta(weeks=w)) for w in range(weeks)):
        day = working_day((day - product_clock.now().date()).days + 1)
    return day


def _member(make_member, make_user, token_for, machine):
    user = make_user(Role.member, member=make_member(house_id=machine.house_id))
    return token_for(user), user


def _body(machine, day, weeks, **extra):
    return {
        "machine_id": machine.id,
        "start": at(day, "09:00").isoformat(),
        "end": at(day, "11:00").isoformat(),
        "until": (day + dt.timedelta(weeks=weeks - 1)).isoformat(),
        **extra,
    }


def test_a_member_books_the_same_slot_every_week_and_each_week_is_a_priced_booking(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine(hourly_rate=40_000)
    headers, _ = _member(make_member, make_user, token_for, machine)
    day = _clear_weekday(4)
    r = client.post(URL, json=_body(machine, day, 4, note="jahit seragam"), headers=headers)
    assert r.status_code == 201, r.json
    series = r.json
    assert series["start_time"] == "09:00" and series["end_time"] == "11:00"
    assert series["weekday"] == day.strftime("%A").lower()
    assert series["skipped"] == []
    starts = [b["start"] for b in series["bookings"]]
    assert starts == [f"{day + dt.timedelta(weeks=w)}T09:00:00+07:00" for w in range(4)]
    assert all(b["price"] == 80_000 for b in series["bookings"])
    listed = client.get("/api/v1/bookings", headers=headers).json["items"]
    assert len(listed) == 4
    again = client.get(f"{URL}/{series['id']}", headers=headers)
    assert [b["id"] for b in again.json["bookings"]] == [b["id"] for b in series["bookings"]]


def test_a_taken_week_refuses_the_whole_series_and_names_each_conflict(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    headers, _ = _member(make_member, make_user, token_for, machine)
    day = _clear_weekday(4)
    taken = day + dt.timedelta(weeks=2)
    make_booking(machine=machine, start_at=at(taken, "10:00"), end_at=at(taken, "12:00"))
    r = client.post(URL, json=_body(machine, day, 4), headers=headers)
    assert r.status_code == 409
    assert r.json["code"] == "series_conflicts"
    conflicts = r.json["details"]["conflicts"]
    assert [(c["date"], c["code"]) for c in conflicts] == [(taken.isoformat(), "booking_conflict")]
    assert "tidak ada yang dipesan" in r.json["message"]  # the member reads Indonesian
    assert client.get("/api/v1/bookings", headers=headers).json["items"] == []


def test_with_skip_conflicts_the_free_weeks_are_booked_and_the_skipped_one_is_kept_on_the_series(
    client, make_machine, make_member, make_user, token_for, make_booking, make_downtime
):
    machine = make_machine()
    headers, _ = _member(make_member, make_user, token_for, machine)
    day = _clear_weekday(4)
    broken = day + dt.timedelta(weeks=1)
    make_downtime(machine=machine, start_at=at(broken, "08:00"), end_at=at(broken, "12:00"))
    r = client.post(URL, json=_body(machine, day, 4, skip_conflicts=True), headers=headers)
    assert r.status_code == 201, r.json
    assert len(r.json["bookings"]) == 3
    assert [(s["date"], s["code"]) for s in r.json["skipped"]] == [
        (broken.isoformat(), "machine_downtime")
    ]


def _holiday_between_working_weeks() -> dt.date:
    """The next weekday holiday whose same weekday a week before and after are working days."""
    day = product_clock.now().date() + dt.timedelta(days=9)
    while True:
        if (
            day.weekday() < 5
            and calendar.holiday_name(day)
            and not calendar.holiday_name(day - dt.timedelta(weeks=1))
            and not calendar.holiday_name(day + dt.timedelta(weeks=1))
        ):
            return day
        day += dt.timedelta(days=1)


def test_a_series_across_a_public_holiday_skips_the_holiday_and_says_so(
    client, make_house, make_machine, make_member, make_user, token_for
):
    machine = make_machine(house=make_house(max_days_ahead=400))
    headers, _ = _member(make_member, make_user, token_for, machine)
    holiday = _holiday_between_working_weeks()
    first = holiday - dt.timedelta(weeks=1)
    r = client.post(URL, json=_body(machine, first, 3, skip_conflicts=True), headers=headers)
    assert r.status_code == 201, r.json
    assert [(s["date"], s["code"]) for s in r.json["skipped"]] == [(holiday.isoformat(), "holiday")]
    assert len(r.json["bookings"]) == 2


def test_series_input_errors_are_422_naming_the_field(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member(make_member, make_user, token_for, machine)
    day = working_day()
    before = _body(machine, day, 1)
    before["until"] = (day - dt.timedelta(days=1)).isoformat()
    r = client.post(URL, json=before, headers=headers)
    assert r.status_code == 422 and "until" in r.json["errors"]
    too_long = _body(machine, day, 53)
    r = client.post(URL, json=too_long, headers=headers)
    assert r.status_code == 422 and "until" in r.json["errors"]
    overnight = _body(machine, day, 2)
    overnight["end"] = at(day + dt.timedelta(days=1), "09:00").isoformat()
    r = client.post(URL, json=overnight, headers=headers)
    assert r.status_code == 422 and "end" in r.json["errors"]
    r = client.post(
        URL, json={**_body(machine, day, 2), "skip_conflicts": "maybe"}, headers=headers
    )
    assert r.status_code == 422 and "skip_conflicts" in r.json["errors"]


def test_cancelling_a_series_cancels_its_future_weeks_and_another_member_cannot(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member(make_member, make_user, token_for, machine)
    other, _ = _member(make_member, make_user, token_for, machine)
    day = _clear_weekday(3)
    series = client.post(URL, json=_body(machine, day, 3), headers=headers).json
    assert client.post(f"{URL}/{series['id']}/cancel", json={}, headers=other).status_code == 404
    r = client.post(
        f"{URL}/{series['id']}/cancel", json={"reason": "pesanan batal"}, headers=headers
    )
    assert r.status_code == 200, r.json
    assert r.json["series"]["status"] == "cancelled"
    assert [b["status"] for b in r.json["cancelled"]] == ["cancelled"] * 3
    statuses = {b["status"] for b in client.get("/api/v1/bookings", headers=headers).json["items"]}
    assert statuses == {"cancelled"}
    again = client.post(f"{URL}/{series['id']}/cancel", json={}, headers=headers)
    assert again.status_code == 409


def test_a_manager_books_a_series_for_a_member_of_the_house(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    member = make_member(house_id=machine.house_id)
    day = _clear_weekday(2)
    r = client.post(URL, json=_body(machine, day, 2, member_id=member.id), headers=manager)
    assert r.status_code == 201, r.json
    assert r.json["member_id"] == member.id
    assert {b["member_id"] for b in r.json["bookings"]} == {member.id}
