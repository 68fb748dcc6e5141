"""A house manager in a real browser: starts a schedule run for an open production request,
the worker solves it, the manager reviews it request by request on the run's page and
publishes it from there, after a confirmation that says what publishing does."""

from __future__ import annotations

import re

import pytest

from factoryshare import worker
from tests.e2e.conftest import MANAGER, MEMBER, PHONE, request_production, sign_in, sign_out
from tests.solving import WORK_PER_SECOND

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


def _accessibility_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The accessibility check of tests/e2e/test_accessibility.py on the page as it is (a page
    reached by a form cannot be opened by its address), at desktop and at phone width."""
    from tests.e2e.test_accessibility import AUDIT

    problems = list(page.evaluate(AUDIT))
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    problems += [f"phone: {p}" for p in page.evaluate(AUDIT)]
    page.set_viewport_size(size)
    return problems


def test_a_manager_starts_a_schedule_run_reviews_its_changes_and_publishes_them(
    page, e2e_sessions, screenshot
):
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
    assert worker.run_once(e2e_sessions, workers=1, work_per_second=WORK_PER_SECOND) is not None

    page.goto(run_url)
    expect(page.locator(".badge").first).to_have_text("siap ditinjau")
    # The evidence, request by request: the wallets' member, product, due date and planned
    # finish (or why not placed), and the on-time share over every request of the run.
    row = page.locator(f"#run-request-{request['id']}")
    expect(row).to_contain_text("Sukaregang Leather Craft")
    expect(row).to_contain_text("Dompet kulit domba · 20")
    expect(row.locator("td[data-label='Rencana selesai']")).to_contain_text("WIB")
    expect(page.locator("#on-time-share")).to_contain_text("/")
    changes = page.locator("#run-changes tbody tr")
    expect(changes.first).to_be_visible()
    # Every step of the wallet's routing (cut, skive, sew) is a new placement of this request;
    # a step that pauses overnight is placed in one row per day, so rows are not counted.
    mine = changes.filter(has_text=f"#{request['id']} ·")
    expect(mine.first).to_be_visible()
    rows = mine.all_inner_texts()
    assert {re.search(r"tahap (\d+)", row).group(1) for row in rows} == {"1", "2", "3"}, rows
    assert all("Sukaregang Leather Craft" in row for row in rows), rows
    placed = changes.count()  # other open requests of the house are planned too
    screenshot(page, "manager-run-review", at="#run-requests")
    assert _accessibility_problems(page) == []

    # The decision comes after the evidence and says what publishing does.
    decision = page.locator("#run-decision")
    expect(decision.locator("#publish-effects")).to_contain_text(f"membuat {placed}")
    publish = decision.get_by_role("button", name="Terbitkan")
    publish.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Ini membuat {placed}, memindahkan 0, dan membatalkan 0")
    expect(dialog).to_contain_text("memberi tahu")
    screenshot(page, "manager-run-publish-confirm", full_page=False)
    # Going back publishes nothing.
    dialog.get_by_role("button", name="Tidak, kembali").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".badge").first).to_have_text("siap ditinjau")

    publish.click()
    page.get_by_role("dialog").get_by_role("button", name="Ya, lanjutkan").click()
    page.wait_for_load_state()
    expect(page.locator(".flash").first).to_contain_text(f"{placed} pemesanan")
    expect(page.locator(".badge").first).to_have_text("diterbitkan")
    expect(page.get_by_role("button", name="Terbitkan")).to_have_count(0)

    # Home counts what still waits, each with its page.
    page.goto("/manager")
    expect(page.locator("#agenda-runs .count")).to_have_text("0")
    expect(page.locator("#agenda-held a")).to_have_attribute(
        "href", re.compile(r"^/manager/queue\?house=\d+$")
    )
    screenshot(page, "manager-home")

    # The house's timeline draws the published bookings: day by day from today to the first
    # day that has one of the wallets' steps (its table lists the same bookings).
    page.goto("/manager/timeline")
    table = page.locator("#timeline-table tbody")
    for _ in range(14):
        if table.filter(has_text="Sukaregang Leather Craft").count():
            break
        page.get_by_role("link", name="Berikutnya").click()
        page.wait_for_load_state()
    expect(table).to_contain_text("Sukaregang Leather Craft")
    expect(page.locator("svg g.bar").first).to_be_attached()
    screenshot(page, "manager-timeline")

    # The member now sees where each step of the request was placed.
    sign_out(page)
    sign_in(page, MEMBER)
    page.goto("/production")
    card = page.locator("section.request").filter(has_text="Dompet kulit domba · 20")
    expect(card.locator(".badge")).to_have_text("terjadwal")
    expect(card.locator("tbody tr")).to_have_count(3)
    expect(card.locator("tbody")).not_to_contain_text("belum dijadwalkan")


def test_a_manager_closes_the_house_for_a_day_after_seeing_the_booking_it_hits(
    clock, page, screenshot
):
    """The closure is previewed with the member's booking it would cancel; nothing changes
    until the manager confirms in the dialog; the closure is then listed (and removed again,
    after its own confirmation, so that the demo house stays as it was)."""
    import datetime as dt

    from tests.e2e.conftest import api_headers

    auth = api_headers(page, MEMBER)
    houses = page.request.get("/api/v1/houses", headers=auth).json()["items"]
    house = next(h for h in houses if "Sukaregang" in h["name"])
    first = clock.today() + dt.timedelta(days=21)
    free = page.request.get(
        f"/api/v1/houses/{house['id']}/availability",
        headers=auth,
        params={
            "start": f"{first.isoformat()}T00:00:00+07:00",
            "end": f"{(first + dt.timedelta(days=7)).isoformat()}T00:00:00+07:00",
            "duration": 60,
        },
    )
    assert free.ok, free.text()
    machine = next(m for m in free.json()["machines"] if m["free"])
    start = dt.datetime.fromisoformat(machine["free"][0]["start"])
    booked = page.request.post(
        "/api/v1/bookings",
        headers=auth,
        data={
            "machine_id": machine["machine_id"],
            "start": start.isoformat(),
            "end": (start + dt.timedelta(hours=1)).isoformat(),
        },
    )
    assert booked.status == 201, booked.text()
    day = start.date().isoformat()

    sign_in(page, MANAGER)
    page.goto("/manager/calendar")
    page.locator("#start_on").fill(day)
    page.locator("#end_on").fill(day)
    page.locator("#closure_reason").fill("Perbaikan listrik")
    page.get_by_role("button", name="Tampilkan pemesanan yang terkena").first.click()
    page.wait_for_load_state()
    hit = page.locator("#hit-bookings tbody tr")
    expect(hit).to_have_count(1)
    expect(hit.first).to_contain_text("Sukaregang Leather Craft")
    expect(hit.first).to_contain_text(machine["name"])
    assert _accessibility_problems(page) == []
    screenshot(page, "manager-closure-preview")

    page.get_by_role("button", name="Konfirmasi dan batalkan pemesanan ini").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 pemesanan dibatalkan dan anggotanya diberi tahu")
    dialog.get_by_role("button", name="Ya, lanjutkan").click()
    page.wait_for_load_state()
    expect(page.locator(".flash.ok").first).to_contain_text("Rumah produksi tutup")
    expect(page.locator("#closures")).to_contain_text("Perbaikan listrik")
    status = page.request.get(f"/api/v1/bookings/{booked.json()['id']}", headers=auth).json()
    assert status["status"] == "cancelled"

    page.locator("#closures").get_by_role("button").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Ya, lanjutkan").click()
    page.wait_for_load_state()
    expect(page.locator("#closures")).to_have_count(0)
