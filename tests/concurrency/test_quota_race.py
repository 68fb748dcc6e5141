"""A member's weekly quota holds however many of the member's bookings arrive at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from factoryshare.models.bookings import BookingQuota
from tests.concurrency.test_double_booking import RaceHouse, _all_at_once
from tests.factories.bookings import at, working_day

PARALLEL = 12
QUOTA_HOURS = 2


def test_twelve_parallel_half_hour_bookings_of_one_member_stay_within_a_two_hour_weekly_quota(
    engine, is_postgres, settings, password_hash
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    from api import create_app

    race = RaceHouse(engine, "quota", password_hash)
    with Session(engine) as s:
        s.add(
            BookingQuota(
                house_id=race.house_id, capability_id=race.cap_id, hours_per_week=QUOTA_HOURS
            )
        )
        s.commit()
    # The app commits for real here: each request is its own transaction, as in production.
    app = create_app(settings, session_factory=sessionmaker(bind=engine, expire_on_commit=False))
    token = race.tokens[0]
    day = working_day()
    # Twelve different half-hour slots of one day, so no two of them clash on the machine.
    slots = [at(day, "08:00") + dt.timedelta(minutes=30 * i) for i in range(PARALLEL)]

    def client(start: dt.datetime) -> tuple[int, str | None]:
        body = {
            "machine_id": race.machine_id,
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=30)).isoformat(),
        }
        response = app.test_client().post(
            "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code, (response.get_json() or {}).get("code")

    try:
        answers = _all_at_once(client, slots)
        allowed = QUOTA_HOURS * 2  # half-hour bookings
        assert sorted(answers, key=lambda a: a[0]) == (
            [(201, None)] * allowed + [(409, "quota_exceeded")] * (PARALLEL - allowed)
        )
        assert race.bookings_held() == allowed
    finally:
        with Session(engine) as s:
            s.execute(delete(BookingQuota).where(BookingQuota.house_id == race.house_id))
            s.commit()
        race.remove()
