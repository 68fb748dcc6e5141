"""The manager's timeline through Flask's test client: the chart (one renderer, labels outside
the scrolling part, fit and zoom), a booking opened from its bar with its actions, the
manager's cancel and move, and a fixed number of SQL statements whatever the house's size."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from tests.factories.bookings import at, working_day
from tests.web.helpers import csrf, sign_in


def _manager_house(make_user, make_machine, machines: int = 1):  # type: ignore[no-untyped-def]
    manager = make_user(Role.manager)
    house = manager.houses[0]
    made = [
        make_machine(house=house, name=f"Mesin Jahit {i + 1:02d}", capabilities=["sewing"])
        for i in range(machines)
    ]
    return manager, house, made


def _panel(page: str, booking_id: int) -> str:
    """The HTML of the booking's panel (the part a click on its bar shows)."""
    start = page.index(f'<section class="booking-panel card" id="booking-{booking_id}"')
    return page[start : page.index("</section>", start)]


def test_a_bar_links_to_its_booking_which_offers_confirm_reject_move_and_cancel(
    client, make_user, make_machine, make_member, make_booking
):
    manager, house, (machine,) = _manager_house(make_user, make_machine)
    member = make_member(house_id=house.id, business_name="Batik Sekar Arum")
    day = working_day()
    held = make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "11:00"),
        status=BookingStatus.held,
    )
    confirmed = make_booking(
        machine=machine, member=member, start_at=at(day, "13:00"), end_at=at(day, "14:00")
    )
    sign_in(client, manager)
    page = client.get(f"/manager/timeline?day={day.isoformat()}").get_data(as_text=True)
    svg = page[page.index("<svg") : page.index("</svg>", page.rindex('class="bar-link"'))]
    assert (
        f'<a class="bar-link" href="#booking-{held.id}" aria-label="Buka pemesanan: Batik Sekar Arum'
        in svg
    )
    assert f'href="#booking-{confirmed.id}"' in svg

    panel = _panel(page, held.id)
    assert "Batik Sekar Arum" in panel and machine.name in panel and "09:00 WIB" in panel
    assert f'action="/manager/bookings/{held.id}/confirm"' in panel
    assert f'href="/manager/bookings/{held.id}/move?next=' in panel
    # Reject and cancel ask once, naming what they change, and take the member's reason.
    for action in ("reject", "cancel"):
        form = panel[panel.index(f'action="/manager/bookings/{held.id}/{action}"') :]
        form = form[: form.index("</form>")]
        assert re.search(r'data-confirm="[^"]*Batik Sekar Arum[^"]*09:00 WIB', form), action
        assert 'data-confirm-reason="required"' in form and 'name="reason"' in form
    # A confirmed booking is no longer the manager's to confirm or reject.
    other = _panel(page, confirmed.id)
    assert "/confirm" not in other and "/reject" not in other
    assert f"/manager/bookings/{confirmed.id}/cancel" in other and "/move" in other


def test_the_machine_names_sit_outside_the_scrolling_chart_which_fits_or_zooms(
    client, make_user, make_machine
):
    manager, _house, (machine,) = _manager_house(make_user, make_machine)
    sign_in(client, manager)
    page = client.get("/manager/timeline?view=week").get_data(as_text=True)
    labels = page[
        page.index('<div class="gantt-labels">') : page.index('<div class="gantt-scroll"')
    ]
    assert machine.name in labels and machine.code in labels
    chart = page[page.index('<div class="gantt-scroll"') : page.index("</svg>")]
    assert machine.name not in chart
    # By default the week fits its box; zoomed, it is drawn 2 or 4 times as wide and scrolls.
    assert re.search(r'<svg class="gantt fit gantt-min-\d+"[^>]*width="100%"', page)
    zoomed = client.get("/manager/timeline?view=week&zoom=4").get_data(as_text=True)
    assert re.search(r'<svg class="gantt fit gantt-min-\d+"[^>]*width="400%"', zoomed)
    assert "Geser bagan ke samping" in zoomed
    assert 'aria-current="true">4×' in zoomed


def test_a_manager_cancels_a_booking_from_the_timeline_with_a_reason_and_comes_back(
    client, db, make_user, make_machine, make_booking
):
    manager, house, (machine,) = _manager_house(make_user, make_machine)
    day = working_day()
    booking = make_booking(machine=machine, start_at=at(day, "09:00"), end_at=at(day, "10:00"))
    sign_in(client, manager)
    here = f"/manager/timeline?house={house.id}&view=day&day={day.isoformat()}"
    token = csrf(client, here)
    # Without a reason nothing is cancelled, and the page says why.
    r = client.post(
        f"/manager/bookings/{booking.id}/cancel",
        data={"csrf_token": token, "reason": "  ", "next": here},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(here)
    db.refresh(booking)
    assert booking.status is BookingStatus.confirmed
    assert "Tulis alasan pemesanan dibatalkan" in client.get(here).get_data(as_text=True)

    r = client.post(
        f"/manager/bookings/{booking.id}/cancel",
        data={"csrf_token": token, "reason": "Mesin diservis", "next": here},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(here)
    db.refresh(booking)
    assert booking.status is BookingStatus.cancelled
    assert booking.cancelled_reason == "Mesin diservis"
    page = client.get(here).get_data(as_text=True)
    assert "Dibatalkan:" in page and f'href="#booking-{booking.id}"' not in page


def test_a_manager_moves_a_booking_to_a_free_time_the_move_page_offers(
    client, db, make_user, make_machine, make_booking
):
    manager, _house, (machine, spare) = _manager_house(make_user, make_machine, machines=2)
    day = working_day()
    booking = make_booking(machine=machine, start_at=at(day, "09:00"), end_at=at(day, "10:00"))
    make_booking(machine=spare, start_at=at(day, "08:00"), end_at=at(day, "12:00"))
    sign_in(client, manager)
    page = client.get(f"/manager/bookings/{booking.id}/move").get_data(as_text=True)
    assert "Pindahkan pemesanan" in page and "Waktu kosong dengan lama yang sama" in page
    # The machine that can do the same work is offered from its first free time, after noon.
    assert f'value="{spare.id}"' in page and "12:00–13:00" in page
    r = client.post(
        f"/manager/bookings/{booking.id}/move",
        data={
            "csrf_token": csrf(client, f"/manager/bookings/{booking.id}/move"),
            "machine_id": spare.id,
            "day": day.isoformat(),
            "time": "13:00",
        },
    )
    assert r.status_code == 302 and "/manager/timeline" in r.headers["Location"]
    db.refresh(booking)
    assert booking.machine_id == spare.id
    assert booking.start_at == at(day, "13:00") and booking.end_at == at(day, "14:00")
    # A time the machine is busy is refused in words, and nothing moves.
    r = client.post(
        f"/manager/bookings/{booking.id}/move",
        data={
            "csrf_token": csrf(client, f"/manager/bookings/{booking.id}/move"),
            "machine_id": spare.id,
            "day": day.isoformat(),
            "time": "09:00",
        },
    )
    assert r.status_code == 302 and "/move" in r.headers["Location"]
    db.refresh(booking)
    assert booking.start_at == at(day, "13:00")


def test_a_manager_of_another_house_can_neither_move_nor_cancel_its_booking(
    client, db, make_user, make_machine, make_booking
):
    _owner, _house, (machine,) = _manager_house(make_user, make_machine)
    booking = make_booking(machine=machine)
    sign_in(client, make_user(Role.manager))
    assert client.get(f"/manager/bookings/{booking.id}/move").status_code == 404
    r = client.post(
        f"/manager/bookings/{booking.id}/cancel",
        data={"csrf_token": csrf(client, "/manager/timeline"), "reason": "Bukan urusan saya"},
    )
    assert r.status_code == 404
    db.refresh(booking)
    assert booking.status is BookingStatus.confirmed


def test_the_timeline_reads_in_english_on_the_english_page(
    client, make_user, make_machine, make_booking
):
    manager, _house, (machine,) = _manager_house(make_user, make_machine)
    day = working_day()
    make_booking(
        machine=machine,
        start_at=at(day, "09:00"),
        end_at=at(day, "10:00"),
        status=BookingStatus.held,
    )
    sign_in(client, manager)
    client.post("/language", data={"lang": "en", "csrf_token": csrf(client, "/manager/timeline")})
    page = client.get(f"/manager/timeline?day={day.isoformat()}").get_data(as_text=True)
    assert "Cancel the booking" in page and "Batalkan pemesanan" not in page
    assert "Open the booking:" in page and "Fit the chart to the screen" in page


def test_new_and_moved_work_differ_by_colour_and_by_pattern_and_the_legend_shows_both(app):
    """The run page's proposal: new work dotted with a dashed outline, moved work striped the
    other way with a thick outline (gantt.css gives the colours), so that they differ for
    people who cannot tell the colours apart."""
    from flask import render_template_string

    from api.web.gantt import Timeline

    start = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)
    timeline = Timeline(
        "plan",
        "Plan",
        [(start, start + dt.timedelta(hours=9))],
        [(1, "Mesin A", "A-1"), (2, "Mesin B", "B-1")],
    )
    timeline.bar(1, start, start + dt.timedelta(hours=2), "proposed", "baru", "Baru")
    timeline.bar(
        2,
        start + dt.timedelta(hours=3),
        start + dt.timedelta(hours=5),
        "moved",
        "dipindah",
        "Dipindah",
    )
    timeline.legend([("proposed", "baru"), ("moved", "dipindah")])
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "_gantt.html" import gantt %}{{ gantt(chart) }}', chart=timeline.chart
        )
    new = html[html.index('<g class="bar proposed">') :]
    moved = html[html.index('<g class="bar moved">') :]
    assert 'fill="url(#plan-dots)"' in new[: new.index("</g>")]
    assert 'fill="url(#plan-stripes-back)"' in moved[: moved.index("</g>")]
    assert '<pattern id="plan-dots"' in html and '<pattern id="plan-stripes-back"' in html
    assert (
        '<span class="gantt-swatch proposed"' in html and '<span class="gantt-swatch moved"' in html
    )
    css = Path(app.static_folder or "", "gantt.css").read_text()
    fills = dict(
        re.findall(r"\.gantt \.bar\.(new|moved) \.fill[^{]*\{ fill: var\(--bar-(\w+)\)", css)
    )
    assert fills["new"] != fills["moved"]


@contextmanager
def _counting(connection) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _house_with(
    make_user,
    make_machine,
    make_member,
    make_booking,
    make_downtime,  # type: ignore[no-untyped-def]
    machines: int,
    bookings: int,
    day: dt.date,
):
    """A house of `machines` machines and `bookings` bookings spread over the week of `day`
    (held and confirmed, several members), a downtime on every fifth machine."""
    manager, house, made = _manager_house(make_user, make_machine, machines=machines)
    members = [make_member(house_id=house.id) for _ in range(max(1, bookings // 20))]
    monday = day - dt.timedelta(days=day.weekday())
    per_machine = bookings // machines
    for m, machine in enumerate(made):
        for n in range(per_machine):
            local = monday + dt.timedelta(days=n % 5)
            hour = 8 + (n // 5) % 8
            make_booking(
                machine=machine,
                member=members[(m + n) % len(members)],
                start_at=at(local, f"{hour:02d}:00"),
                end_at=at(local, f"{hour:02d}:45"),
                status=BookingStatus.held if n % 3 == 0 else BookingStatus.confirmed,
            )
        if m % 5 == 0:
            make_downtime(machine=machine, start_at=at(monday, "12:00"), end_at=at(monday, "13:00"))
    return manager


def test_the_week_timeline_costs_the_same_statements_for_20_machines_and_200_bookings_as_for_5_and_20(
    app, connection, make_user, make_machine, make_member, make_booking, make_downtime
):
    day = working_day(14)
    small = _house_with(
        make_user, make_machine, make_member, make_booking, make_downtime, 5, 20, day
    )
    big = _house_with(
        make_user, make_machine, make_member, make_booking, make_downtime, 20, 200, day
    )
    counts = {}
    for name, manager in (("small", small), ("big", big)):
        client = app.test_client()
        sign_in(client, manager)
        url = f"/manager/timeline?view=week&day={day.isoformat()}"
        client.get(url)  # the first page of a session may read what later ones keep
        with _counting(connection) as statements:
            page = client.get(url).get_data(as_text=True)
        counts[name] = len(statements)
        assert page.count('class="bar-link"') == (20 if name == "small" else 200)
    assert counts["big"] == counts["small"], counts


def test_the_aggregators_plan_is_drawn_by_the_same_renderer_with_members_beside_the_chart(app):
    from flask import render_template_string

    from api.web.aggregator.applications import plan_chart
    from api.web.gantt import Chart
    from factoryshare.services.loan_review import PlanItem

    start = dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC)
    items = [
        PlanItem(1, "booked", start, start + dt.timedelta(hours=3), "Mesin Jahit", None),
        PlanItem(2, "window", start, start + dt.timedelta(days=4), "Dompet × 10", None),
    ]
    with app.test_request_context("/"):
        chart = plan_chart(items, {1: "Garut Kulit Jaya", 2: "Sukaregang"}, "Asia/Jakarta")
        assert isinstance(chart, Chart)
        html = render_template_string(
            '{% from "_gantt.html" import gantt %}{{ gantt(chart) }}', chart=chart
        )
    labels = html[
        html.index('<div class="gantt-labels">') : html.index('<div class="gantt-scroll"')
    ]
    assert "Garut Kulit Jaya" in labels and "Sukaregang" in labels
    assert 'class="bar booked"' in html and 'class="bar window"' in html
    # The legend names only the kinds drawn; the window is 4 days of a 5-day chart.
    assert [kind for kind, _words in chart.legend] == ["booked", "window"]
    window = next(b for b in chart.bars if b.kind == "window")
    assert window.w == pytest.approx(0.8)
