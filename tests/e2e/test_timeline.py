"""The manager's timeline in the real browser: the machine column stays while the chart
scrolls, the week fits a 1280 px screen, and a click on a booking opens it with its actions
(reject asks once, with a reason, and then frees the slot)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from factoryshare import clock as product_clock
from tests.e2e.conftest import DESKTOP, MANAGER, PHONE, sign_in
from tests.e2e.test_accessibility import AUDIT

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


def _a_quiet_week_day() -> dt.date:
    """A working day seven weeks ahead (past every run the other browser tests plan), that is
    no public holiday; its week is drawn by the week view."""
    from factoryshare.services import calendar

    day = product_clock.now().astimezone(ZoneInfo("Asia/Jakarta")).date() + dt.timedelta(days=49)
    while day.weekday() > 3 or calendar.holiday_name(day) is not None:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture()
def two_bookings(e2e_sessions: Any) -> dict[str, Any]:
    """A held and a confirmed booking on two machines of the Garut manager's house, written
    straight into the served database."""
    from sqlalchemy import select

    from factoryshare.db import transaction
    from factoryshare.models import Member, User
    from factoryshare.models.bookings import Booking, BookingStatus

    day = _a_quiet_week_day()
    zone = ZoneInfo("Asia/Jakarta")

    def at(hour: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), tzinfo=zone).astimezone(dt.UTC)

    with transaction(e2e_sessions) as session:
        manager = session.scalars(select(User).where(User.email == MANAGER[0])).one()
        house = manager.houses[0]
        machines = sorted(
            (m for m in house.machines if m.status.value == "active"), key=lambda m: m.id
        )[:2]
        member = session.scalars(
            select(Member).where(Member.house_id == house.id).order_by(Member.id)
        ).first()
        assert len(machines) == 2 and member is not None
        made = {}
        for name, machine, status, start in (
            ("held", machines[0], BookingStatus.held, 9),
            ("confirmed", machines[1], BookingStatus.confirmed, 13),
        ):
            booking = Booking(
                machine_id=machine.id,
                member_id=member.id,
                start_at=at(start),
                end_at=at(start + 2),
                status=status,
                price=2 * machine.hourly_rate,
                hourly_rate=machine.hourly_rate,
                note="",
                hold_expires_at=at(start) if status is BookingStatus.held else None,
            )
            session.add(booking)
            session.flush()
            made[name] = booking.id
        made.update(day=day, member=member.business_name, machine=machines[0].name)
    return made


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _click_bar(page: Any, booking_id: int) -> None:
    """Click the bar itself, as a person does (the link's box includes its clipped label)."""
    page.locator(f"a.bar-link[href='#booking-{booking_id}'] rect.fill").click()


def test_the_week_view_shows_all_seven_days_at_1280_px_without_scrolling(
    page, two_bookings, screenshot
):
    sign_in(page, MANAGER)
    page.goto(f"/manager/timeline?view=week&day={two_bookings['day'].isoformat()}")
    assert page.viewport_size == DESKTOP
    scroller = page.locator("#timeline-chart .gantt-scroll")
    # Nothing to scroll: the plot is as wide as its box, and every day's heading is on screen.
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    labels = page.locator("#timeline-chart text.day-label")
    expect(labels).to_have_count(7)
    for i in range(7):
        box = _box(labels.nth(i))
        assert box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"], labels.nth(
            i
        ).text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot(page, "manager-timeline-week", full_page=False, at="#timeline-chart")
    # The day view shows the whole opening hours on one screen too.
    page.goto(f"/manager/timeline?day={two_bookings['day'].isoformat()}")
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    ticks = page.locator("#timeline-chart text.tick-label").all_text_contents()
    assert ticks[0] <= "08:00" and ticks[-1] >= "16:00", ticks


def test_the_machine_column_stays_while_a_zoomed_chart_scrolls(page, two_bookings):
    sign_in(page, MANAGER)
    page.goto(f"/manager/timeline?view=week&zoom=4&day={two_bookings['day'].isoformat()}")
    scroller = page.locator("#timeline-chart .gantt-scroll")
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") > 1000
    name = page.locator("#timeline-chart .gantt-row-label .name").filter(
        has_text=two_bookings["machine"]
    )
    bar = page.locator("#timeline-chart g.bar.held").first
    before_name, before_bar = _box(name), _box(bar)
    scroller.evaluate("e => { e.scrollLeft = 600; }")
    page.wait_for_function(
        "() => document.querySelector('#timeline-chart .gantt-scroll').scrollLeft >= 600"
    )
    after_name, after_bar = _box(name), _box(bar)
    # The bar moved with the chart; the machine's name did not and is still on screen.
    assert after_bar["x"] == pytest.approx(before_bar["x"] - 600, abs=2)
    assert after_name["x"] == pytest.approx(before_name["x"], abs=0.5)
    assert after_name["x"] >= 0
    expect(name).to_be_visible()
    # Its row lines up with the bars of its machine.
    row = _box(
        page.locator("#timeline-chart .gantt-row-label").filter(has_text=two_bookings["machine"])
    )
    assert (
        row["y"] <= after_bar["y"]
        and after_bar["y"] + after_bar["height"] <= row["y"] + row["height"] + 0.5
    )


def test_clicking_a_bar_opens_the_booking_and_rejecting_it_asks_once_for_a_reason(
    page, two_bookings, screenshot
):
    sign_in(page, MANAGER)
    page.goto(f"/manager/timeline?view=week&day={two_bookings['day'].isoformat()}")
    panel = page.locator(f"#booking-{two_bookings['held']}")
    expect(panel).to_be_hidden()
    _click_bar(page, two_bookings["held"])
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(two_bookings["member"])
    expect(panel.get_by_role("button", name="Konfirmasi")).to_be_visible()
    expect(panel.get_by_role("link", name="Pindahkan")).to_be_visible()
    expect(panel.get_by_role("button", name="Tolak")).to_be_visible()
    expect(panel.get_by_role("button", name="Batalkan pemesanan")).to_be_visible()
    screenshot(page, "manager-timeline-booking", full_page=False)
    # The open booking passes the accessibility check at both widths (labels, names, contrast,
    # nothing wider than a phone).
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        assert page.evaluate(AUDIT) == [], size
    page.set_viewport_size(DESKTOP)

    # A confirmed booking has no confirm or reject, only move and cancel.
    _click_bar(page, two_bookings["confirmed"])
    other = page.locator(f"#booking-{two_bookings['confirmed']}")
    expect(other).to_be_visible()
    expect(panel).to_be_hidden()
    expect(other.get_by_role("button", name="Konfirmasi")).to_have_count(0)
    expect(other.get_by_role("button", name="Tolak")).to_have_count(0)
    expect(other.get_by_role("button", name="Batalkan pemesanan")).to_be_visible()

    # Reject: one question naming what it changes, with a required reason.
    _click_bar(page, two_bookings["held"])
    panel.get_by_role("button", name="Tolak").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(two_bookings["member"])
    dialog.locator("textarea").fill("Mesin dipakai untuk pesanan lain")
    with page.expect_navigation():
        dialog.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok").first).to_be_visible()
    # Back on the timeline, the rejected booking's bar is gone; the confirmed one stays.
    page.goto(f"/manager/timeline?view=week&day={two_bookings['day'].isoformat()}")
    expect(page.locator(f"a.bar-link[href='#booking-{two_bookings['held']}']")).to_have_count(0)
    expect(page.locator(f"a.bar-link[href='#booking-{two_bookings['confirmed']}']")).to_have_count(
        1
    )


def test_a_keyboard_opens_a_booking_from_its_bar_tabs_into_it_and_closes_it_back(
    page, two_bookings
):
    sign_in(page, MANAGER)
    page.goto(f"/manager/timeline?day={two_bookings['day'].isoformat()}")
    link = page.locator(f"a.bar-link[href='#booking-{two_bookings['held']}']")
    link.focus()
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.locator(f"#booking-{two_bookings['held']}")
    expect(panel).to_be_visible()
    # The next Tab lands in the panel that opened (its close link first), not on the next bar.
    page.keyboard.press("Tab")
    assert panel.evaluate("(p) => p.contains(document.activeElement)")
    page.keyboard.press("Enter")
    expect(panel).to_be_hidden()
    assert page.url.endswith(f"#bar-booking-{two_bookings['held']}")
