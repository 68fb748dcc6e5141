"""A house manager in a real browser: starts a schedule run for an open production request,
the worker solves it, the manager reviews the proposed changes and publishes them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from factoryshare import worker
from tests.e2e.conftest import MANAGER, MEMBER, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

GARUT = ZoneInfo("Asia/Jakarta")


def _member_requests_production(page) -> dict:  # type: ignore[no-untyped-def]
    """The demo member asks for 20 leather wallets over the next two weeks through the API of
    the same running server (the pages have no form for it), as the member's app would."""
    api = page.request
    token = api.post("/api/v1/auth/token", data={"email": MEMBER[0], "password": MEMBER[1]})
    assert token.status == 201, token.text()
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    products = api.get("/api/v1/products", headers=auth)
    assert products.ok, products.text()
    wallet = next(p for p in products.json()["items"] if p["name"] == "Dompet kulit domba")
    start = dt.datetime.now(GARUT).replace(hour=0, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=1)
    created = api.post("/api/v1/production-requests", headers=auth, data={
        "product_id": wallet["id"], "quantity": 20,
        "earliest_start": start.isoformat(), "due": (start + dt.timedelta(days=14)).isoformat(),
    })
    assert created.status == 201, created.text()
    return created.json()


def test_a_manager_starts_a_schedule_run_reviews_its_changes_and_publishes_them(
        page, e2e_sessions, screenshot):
    request = _member_requests_production(page)
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
    expect(changes.filter(has_text=f"#{request['id']}")).to_have_count(3)
    expect(changes.filter(has_text="Sukaregang Leather Craft")).to_have_count(3)
    screenshot(page, "manager-run-review", at="#run-changes")

    page.get_by_role("button", name="Terbitkan").click()
    page.wait_for_load_state()
    expect(page.locator(".flash").first).to_contain_text("3")
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
    card = page.locator("section.request").filter(has_text="Dompet kulit domba")
    expect(card.locator(".badge")).to_have_text("terjadwal")
    expect(card.locator("tbody tr")).to_have_count(3)
    expect(card.locator("tbody")).not_to_contain_text("belum dijadwalkan")
