from sqlalchemy import func, select

from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from tests.factories.bookings import at, working_day

URL = "/api/v1/bookings"


def _setup(make_machine, make_member, make_user, token_for):
    machine = make_machine()
    user = make_user(Role.member, member=make_member(house_id=machine.house_id))
    day = working_day()
    body = {
        "machine_id": machine.id,
        "start": at(day, "09:00").isoformat(),
        "end": at(day, "10:00").isoformat(),
    }
    return machine, token_for(user), body


def test_a_retried_post_with_the_same_key_replays_the_first_answer_and_books_once(
    client, db, make_machine, make_member, make_user, token_for
):
    machine, headers, body = _setup(make_machine, make_member, make_user, token_for)
    headers = {**headers, "Idempotency-Key": "abc-123"}
    first = client.post(URL, json=body, headers=headers)
    second = client.post(URL, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    count = db.scalar(
        select(func.count()).select_from(Booking).where(Booking.machine_id == machine.id)
    )
    assert count == 1


def test_the_same_key_with_a_different_body_is_refused(
    client, make_machine, make_member, make_user, token_for
):
    _, headers, body = _setup(make_machine, make_member, make_user, token_for)
    headers = {**headers, "Idempotency-Key": "key-1"}
    assert client.post(URL, json=body, headers=headers).status_code == 201
    r = client.post(URL, json={**body, "note": "lain"}, headers=headers)
    assert r.status_code == 422
    assert r.json["code"] == "idempotency_key_reused"


def test_a_failed_first_attempt_can_be_retried_with_the_same_key(
    client, db, make_machine, make_member, make_user, token_for, make_booking
):
    machine, headers, body = _setup(make_machine, make_member, make_user, token_for)
    headers = {**headers, "Idempotency-Key": "retry-me"}
    taken = make_booking(
        machine=machine, start_at=at(working_day(), "09:00"), end_at=at(working_day(), "10:00")
    )
    assert client.post(URL, json=body, headers=headers).json["code"] == "booking_conflict"
    taken.status = BookingStatus.cancelled
    db.flush()
    r = client.post(URL, json=body, headers=headers)
    assert r.status_code == 201, r.json


def test_keys_of_different_users_do_not_collide(
    client, make_machine, make_member, make_user, token_for
):
    machine, headers, body = _setup(make_machine, make_member, make_user, token_for)
    other = token_for(make_user(Role.member, member=make_member(house_id=machine.house_id)))
    assert (
        client.post(URL, json=body, headers={**headers, "Idempotency-Key": "k"}).status_code == 201
    )
    r = client.post(URL, json=body, headers={**other, "Idempotency-Key": "k"})
    assert r.json["code"] == "booking_conflict"
