"""A member in a real browser: signs in, picks a free slot in the day grid, checks the review
and books it; asks for production with the estimate first and later sees where the plan
placed it; the language switch turns the pages from Indonesian to English and back."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import MANAGER, MEMBER, OTHER_MEMBER, sign_in
from tests.solving import WORK_PER_SECOND

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

GARUT = ZoneInfo("Asia/Jakarta")  # the demo member's house is in Garut (WIB)


def _go_to_a_day_with_free_slots(page) -> None:  # type: ignore[no-untyped-def]
    """From the grid's day, follow "next day" (the house is closed on Sundays and holidays)
    until the grid shows free slots."""
    for _ in range(14):
        if page.locator("table.slot-grid a.cell").count():
            return
        page.locator("a[rel=next]").click()
        page.wait_for_load_state()
    raise AssertionError("no free slot in the next two weeks")


def test_a_member_picks_a_slot_in_the_day_grid_checks_the_review_and_books_it(
    clock, page, screenshot
):
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("Masuk")
    screenshot(page, "login")

    sign_in(page, MEMBER)
    expect(page.locator("h1")).to_have_text("Pesan mesin")
    tomorrow = clock.today(GARUT) + dt.timedelta(days=1)
    page.locator("#day").fill(tomorrow.isoformat())
    page.locator("form.search button[type=submit]").click()
    page.wait_for_load_state()
    _go_to_a_day_with_free_slots(page)
    # One grid for every machine of the house: a row each, a column per start of the day.
    rows = page.locator("table.slot-grid tbody tr")
    assert rows.count() > 1
    expect(page.locator("table.slot-grid thead th").last).to_have_text("16:00")
    screenshot(page, "find-slot", full_page=False)

    cell = page.locator("table.slot-grid a.cell").first
    machine = cell.locator("xpath=ancestor::tr/th").inner_text().split("\n")[0].strip()
    start = cell.inner_text()
    cell.click()
    page.wait_for_load_state()

    expect(page.locator("h1")).to_have_text("Periksa pemesanan Anda")
    review = page.locator("section.review")
    expect(review).to_contain_text(machine)
    expect(review).to_contain_text(start)
    expect(review).to_contain_text("per jam")
    price = review.locator("dd.price").inner_text()
    assert re.fullmatch(r"Rp[\d.]+", price)
    # The demo's Garut house confirms bookings itself: the review says until when it holds it.
    expect(review).to_contain_text("slot ini ditahan untuk Anda sampai")
    expect(review.locator("dd.rule")).to_contain_text("no-show")
    screenshot(page, "review-booking")

    page.get_by_role("button", name="Ajukan pemesanan ini").click()
    page.wait_for_load_state()
    assert page.url.endswith("/bookings")
    expect(page.locator(".flash").first).to_contain_text(f"Ditahan: {machine}")
    booking = (
        page.locator("li.booking")
        .filter(has_text=machine)
        .filter(has_text=start)
        .filter(has_text=price)
    )
    expect(booking).to_have_count(1)
    expect(booking.locator(".badge")).to_have_text("ditahan")
    screenshot(page, "my-bookings")

    # Cancelling asks once, naming the machine; "No" leaves the booking as it is.
    booking.get_by_role("button", name="Batal").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(machine)
    dialog.get_by_role("button", name=re.compile("Tidak")).click()
    expect(booking.locator(".badge")).to_have_text("ditahan")


def test_a_member_asks_for_production_sees_the_estimate_sends_it_and_later_sees_it_placed(
    clock, page, e2e_sessions, screenshot
):
    from factoryshare import worker
    from factoryshare.access import Actor
    from factoryshare.db import transaction
    from factoryshare.models import User
    from factoryshare.models.scheduling import ProductionRequest, RunStatus
    from factoryshare.services import scheduling

    sign_in(page, MEMBER)
    page.goto("/production")
    page.get_by_role("link", name="Ajukan produksi").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Ajukan produksi")
    page.locator("#product_id").select_option(label="Dompet kulit domba")
    page.locator("#quantity").fill("20")
    page.get_by_role("button", name="Tampilkan perkiraan").click()
    page.wait_for_load_state()

    estimate = page.locator("section.estimate")
    expect(estimate).to_contain_text("Dompet kulit domba · 20 unit")
    expect(estimate.locator("dd.hours")).to_contain_text(re.compile(r"jam|menit"))
    expect(estimate.locator("dd.price")).to_contain_text(re.compile(r"Rp[\d.]+"))
    expect(estimate).to_contain_text("dapat dipenuhi")
    screenshot(page, "production-estimate", at="section.estimate")

    estimate.get_by_role("button", name="Kirim permintaan").click()
    page.wait_for_load_state()
    assert re.search(r"/production/\d+$", page.url)
    request_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text("Dompet kulit domba · 20")
    expect(page.locator("main .badge").first).to_have_text("menunggu jadwal")

    # The house's manager plans the next two weeks and publishes the plan (the manager's own
    # pages are tested in test_manager.py); the worker runs its one step here.
    with transaction(e2e_sessions) as session:
        made = session.get(ProductionRequest, request_id)
        manager = session.query(User).filter_by(email=MANAGER[0]).one()
        start = clock.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
        run = scheduling.queue_run(
            session,
            Actor.of(manager),
            made.house_id,
            {
                "horizon_start": start,
                "horizon_end": start + dt.timedelta(days=14),
                "time_limit_seconds": 5,
            },
        )
        run_id = run.id
    assert worker.run_once(e2e_sessions, workers=1, work_per_second=WORK_PER_SECOND) is not None
    with transaction(e2e_sessions) as session:
        manager = session.query(User).filter_by(email=MANAGER[0]).one()
        assert scheduling.get_run(session, Actor.of(manager), run_id).status is RunStatus.succeeded
        scheduling.publish_run(session, Actor.of(manager), run_id)

    page.reload()
    expect(page.locator("main .badge").first).to_have_text("terjadwal")
    placed = page.locator("table.placed tbody tr")
    # Every step of the wallet's routing (cut, skive, sew) is booked for it.
    assert placed.count() >= 3
    expect(placed.first).to_contain_text("WIB")
    screenshot(page, "production-placed")


def test_the_language_switch_turns_the_texts_to_english_and_back_to_indonesian(page):
    sign_in(page, OTHER_MEMBER)
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("h1")).to_have_text("Pesan mesin")

    page.locator("form.lang button[value=en]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Book a machine")
    expect(page.get_by_role("button", name="Find free slots")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert re.search(r"/slots", page.url), "the switch keeps the user on the same page"

    page.locator("form.lang button[value=id]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("h1")).to_have_text("Pesan mesin")
    expect(page.get_by_role("button", name="Cari slot kosong")).to_be_visible()
