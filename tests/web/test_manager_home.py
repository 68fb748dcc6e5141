"""The manager's home: what waits (held bookings, runs ready to review, downtimes today,
permit warnings), counted by one service (agenda.house_agenda) that the API serves too."""

from __future__ import annotations

import datetime as dt

from factoryshare import clock as product_clock
from factoryshare.db import utcnow
from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.web.helpers import sign_in


def _a_house_with_work_waiting(
    db,
    make_user,
    make_machine,
    make_member,
    make_booking,  # type: ignore[no-untyped-def]
    make_downtime,
    make_food_product,
    make_permit,
):
    from factoryshare.access import Actor
    from factoryshare.models.scheduling import RunStatus
    from factoryshare.services import scheduling

    manager = make_user(Role.manager)
    house = manager.houses[0]
    machine = make_machine(house=house, name="Mesin Bordir Tajima")
    member = make_member(house_id=house.id, business_name="Dodol Picnic Garut")
    day = working_day()
    make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "11:00"),
        end_at=at(day, "12:00"),
        status=BookingStatus.held,
    )
    past = product_clock.now().date() - dt.timedelta(days=3)
    make_booking(
        machine=machine,
        member=member,
        start_at=at(past, "09:00"),
        end_at=at(past, "10:00"),
        status=BookingStatus.held,
    )  # over: waits no more
    make_booking(
        machine=machine, member=member, start_at=at(day, "13:00"), end_at=at(day, "14:00")
    )  # confirmed: nothing to do
    now = utcnow()
    make_downtime(
        machine=machine, start_at=now - dt.timedelta(hours=1), end_at=now + dt.timedelta(hours=1)
    )
    make_downtime(
        machine=machine,
        start_at=now + dt.timedelta(days=3),
        end_at=now + dt.timedelta(days=3, hours=2),
    )  # not today
    as_manager = Actor.of(manager)
    ready = scheduling.queue_run(
        db,
        as_manager,
        house.id,
        {
            "horizon_start": at(day, "00:00"),
            "horizon_end": at(day + dt.timedelta(days=2), "00:00"),
            "time_limit_seconds": 2,
        },
    )
    ready.status = RunStatus.succeeded
    scheduling.queue_run(
        db,
        as_manager,
        house.id,
        {  # still queued: nothing to review yet
            "horizon_start": at(day, "00:00"),
            "horizon_end": at(day + dt.timedelta(days=2), "00:00"),
            "time_limit_seconds": 2,
        },
    )
    product = make_food_product(member=member, name="Dodol Kacang")
    make_permit(product, "halal")
    make_permit(product, "pirt", expires_on=product_clock.now().date() + dt.timedelta(days=20))
    make_permit(make_food_product(member=member, name="Keripik Tempe"), "halal")
    db.flush()
    return manager, house


def test_the_managers_home_counts_what_waits_with_a_link_to_each_page(
    client,
    db,
    make_user,
    make_machine,
    make_member,
    make_booking,
    make_downtime,
    make_food_product,
    make_permit,
):
    manager, house = _a_house_with_work_waiting(
        db,
        make_user,
        make_machine,
        make_member,
        make_booking,
        make_downtime,
        make_food_product,
        make_permit,
    )
    sign_in(client, manager)
    page = client.get("/manager").get_data(as_text=True)

    def tile(name: str) -> str:
        return page.split(f'id="agenda-{name}"', 1)[1].split("</li>", 1)[0]

    held = tile("held")
    assert '<strong class="count">2</strong>' in held and "pemesanan ditahan" in held
    assert f'href="/manager/queue?house={house.id}"' in held
    runs = tile("runs")
    assert '<strong class="count">1</strong>' in runs and "siap ditinjau" in runs
    assert f'href="/manager/runs?house={house.id}"' in runs
    assert '<strong class="count">1</strong>' in tile("downtimes")
    permits = tile("permits")
    assert '<strong class="count">1</strong>' in permits and "1 produk terhalang" in permits
    assert f'href="/manager/permits?house={house.id}"' in permits
    # The menu leads there.
    assert 'href="/manager"' in page


def test_the_agenda_is_served_by_the_api_to_the_houses_manager_only(
    client,
    db,
    make_user,
    make_machine,
    make_member,
    make_booking,
    make_downtime,
    make_food_product,
    make_permit,
    token_for,
):
    manager, house = _a_house_with_work_waiting(
        db,
        make_user,
        make_machine,
        make_member,
        make_booking,
        make_downtime,
        make_food_product,
        make_permit,
    )
    r = client.get(f"/api/v1/houses/{house.id}/agenda", headers=token_for(manager))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (
        body["held_bookings"],
        body["runs_to_review"],
        body["downtimes_today"],
        body["permit_warnings"],
        body["blocked_products"],
    ) == (2, 1, 1, 1, 1)
    assert body["permits_by_state"]["expiring"] == 1
    other = make_user(Role.manager)
    assert (
        client.get(f"/api/v1/houses/{house.id}/agenda", headers=token_for(other)).status_code == 404
    )
    member = make_user(Role.member)
    assert (
        client.get(f"/api/v1/houses/{house.id}/agenda", headers=token_for(member)).status_code
        == 403
    )


def test_a_house_with_nothing_waiting_says_so(client, make_user):
    manager = make_user(Role.manager)
    sign_in(client, manager)
    page = client.get("/manager").get_data(as_text=True)
    assert "Tidak ada yang menunggu Anda hari ini." in page
