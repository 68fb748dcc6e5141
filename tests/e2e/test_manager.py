"""A house manager in a real browser: starts a schedule run for an open production request,
the worker solves it, the manager reviews the proposed changes and publishes them."""

from __future__ import annotations

import pytest

from factoryshare import worker
from tests.e2e.conftest import MANAGER, MEMBER, request_production, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


def test_a_manager_starts_a_schedule_run_reviews_its_changes_and_publishes_them(
        page, e2e_sessions, screenshot):
    # The demo member asks for 20 leather wallets over the next two weeks.
    request = request_production(page, MEMBER, "Dompet kulit domba", 20)
    sign_in(page, MANAGER)

    page.goto("/manager/runs")
    page.locator("#horizon_days").fill("14")
    page.locator("#time_limit_seconds").fill("5")
    page.get_by_role("button", name="Mulai penjadwalan").click()
    page.wait_for_load_state()
    assert "/manager/runs/" in page.url
    run_url = page.url
    expect(page.locator(".badge").first).to_have_text("dalam antrean")

    # The worker normally runs beside the server (`factoryshare worker`); here the test runs
    # its one step on the served database.
    assert worker.run_once(e2e_sessions, workers=1) is not None

    page.goto(run_url)
    expect(page.locator(".badge").first).to_have_text("siap ditinjau")
    changes = page.locator("#run-changes tbody tr")
    expect(changes.first).to_be_visible()
    # Every step of the wallet's routing (cut, skive, sew) is a new placement of this request.
    expect(changes.filter(has_text=f"#{request['id']} ·")).to_have_count(3)
    expect(changes.filter(has_text=f"#{request['id']} ·").filter(
        has_text="Sukaregang Leather Craft")).to_have_count(3)
    placed = changes.count()  # other open requests of the house are planned too
    screenshot(page, "manager-run-review", at="#run-changes")

    page.get_by_role("button", name="Terbitkan").click()
    page.wait_for_load_state()
    expect(page.locator(".flash").first).to_contain_text(f"{placed} pemesanan")
    expect(page.locator(".badge").first).to_have_text("diterbitkan")
    expect(page.get_by_role("button", name="Terbitkan")).to_have_count(0)

    # The house's timeline draws the published bookings: day by day from today to the first
    # day that has any.
    page.goto("/manager/timeline")
    bars = page.locator("svg g.bar")
    for _ in range(7):
        if bars.count():
            break
        page.get_by_role("link", name="Berikutnya").click()
        page.wait_for_load_state()
    expect(bars.filter(has_text="Sukaregang Leather Craft").first).to_be_attached()
    screenshot(page, "manager-timeline")

    # The member now sees where each step of the request was placed.
    page.context.clear_cookies()
    sign_in(page, MEMBER)
    page.goto("/production")
    card = page.locator("section.request").filter(has_text="Dompet kulit domba · 20")
    expect(card.locator(".badge")).to_have_text("terjadwal")
    expect(card.locator("tbody tr")).to_have_count(3)
    expect(card.locator("tbody")).not_to_contain_text("belum dijadwalkan")
