import icalendar

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day

URL = "/api/v1/calendar-feed"


def _member(make_member, make_user, token_for, machine):
    member = make_member(house_id=machine.house_id)
    return token_for(make_user(Role.member, member=member)), member


def _events(body: bytes) -> list:
    return icalendar.Calendar.from_ical(body).walk("VEVENT")


def test_a_member_subscribes_to_its_private_feed_and_sees_its_live_bookings_only(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine(name="Mesin Jahit Juki 1")
    headers, member = _member(make_member, make_user, token_for, machine)
    day = working_day()
    mine = make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:30"),
        price=75_000,
    )
    held = make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "13:00"),
        end_at=at(day, "14:00"),
        status=BookingStatus.held,
    )
    make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "15:00"),
        end_at=at(day, "16:00"),
        status=BookingStatus.cancelled,
    )
    make_booking(machine=machine, start_at=at(day, "11:00"), end_at=at(day, "12:00"))  # another's

    issued = client.post(URL, headers=headers)
    assert issued.status_code == 201, issued.json
    url = issued.json["url"]
    assert issued.json["webcal_url"].startswith("webcal://")
    path = url.split("://", 1)[1].split("/", 1)[1]

    r = client.get("/" + path)  # no Authorization header: calendar apps send none
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/calendar")
    events = {str(e["uid"]): e for e in _events(r.data)}
    assert set(events) == {f"booking-{mine.id}@factoryshare", f"booking-{held.id}@factoryshare"}
    event = events[f"booking-{mine.id}@factoryshare"]
    assert event.decoded("dtstart") == at(day, "09:00")
    assert event.decoded("dtend") == at(day, "10:30")
    assert "Mesin Jahit Juki 1" in str(event["summary"])
    assert "Rp75.000" in str(event["description"]) and "WIB" in str(event["description"])
    assert str(events[f"booking-{held.id}@factoryshare"]["status"]) == "TENTATIVE"
    assert client.get(URL, headers=headers).json["read_count"] == 1


def test_a_new_address_ends_the_old_one_and_revoking_ends_both(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    headers, _ = _member(make_member, make_user, token_for, machine)
    first = client.post(URL, headers=headers).json["url"].split("/api/", 1)[1]
    second = client.post(URL, headers=headers).json["url"].split("/api/", 1)[1]
    assert first != second
    assert client.get("/api/" + first).status_code == 404
    assert client.get("/api/" + second).status_code == 200
    assert client.delete(URL, headers=headers).status_code == 204
    assert client.get("/api/" + second).status_code == 404
    assert client.get(URL, headers=headers).status_code == 404


def test_a_guessed_address_is_not_found_and_only_members_have_feeds(
    client, make_machine, make_user, token_for
):
    machine = make_machine()
    assert client.get("/api/v1/calendar/not-a-real-token.ics").status_code == 404
    manager = token_for(make_user(Role.manager, houses=[machine.house]))
    assert client.post(URL, headers=manager).status_code == 403
