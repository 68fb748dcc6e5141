"""An aggregator in a real browser: reviews a cluster's loan application built on a production
plan, runs the capacity check and approves it (confirming once); records an offtake agreement
and a purchase on it."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.conftest import AGGREGATOR, MEMBER, api_headers, request_production, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


def _chair_submits_an_application(page) -> dict:  # type: ignore[no-untyped-def]
    """The demo member chairs the Garut leather cluster: through the API of the running server
    it asks for production of 35 wallets, applies for a KUR Klaster loan financing them with
    Rp5.000.000 of leather, and submits the application to the aggregator."""
    wallets = request_production(page, MEMBER, "Dompet kulit domba", 35, days=21)
    auth = api_headers(page, MEMBER)
    api = page.request
    me = api.get("/api/v1/auth/me", headers=auth).json()
    clusters = api.get("/api/v1/clusters", headers=auth)
    assert clusters.ok, clusters.text()
    cluster = next(c for c in clusters.json()["items"] if c["chair_member_id"] == me["member_id"])
    created = api.post(
        "/api/v1/loan-applications",
        headers=auth,
        data={
            "cluster_id": cluster["id"],
            "requested_amount": 1,
            "tenor_months": 12,
            "notes": "Modal kerja dompet kulit untuk pesanan koperasi",
        },
    )
    assert created.status == 201, created.text()
    application = created.json()
    plan = api.put(
        f"/api/v1/loan-applications/{application['id']}/plan",
        headers=auth,
        data={
            "production_request_ids": [wallets["id"]],
            "material_costs": [{"member_id": me["member_id"], "amount": 5_000_000}],
        },
    )
    assert plan.ok, plan.text()
    submitted = api.post(
        f"/api/v1/loan-applications/{application['id']}/submit", headers=auth, data={}
    )
    assert submitted.ok, submitted.text()
    return submitted.json()


def test_an_aggregator_reviews_a_submitted_application_checks_capacity_and_approves_it(
    page, screenshot
):
    application = _chair_submits_an_application(page)
    sign_in(page, AGGREGATOR)

    page.goto("/aggregator/applications")
    link = page.get_by_role("link", name=f"#{application['id']}", exact=True)
    waiting = page.locator("table").first.locator("tbody tr").filter(has=link)
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".badge")).to_have_text("menunggu keputusan Anda")
    waiting.get_by_role("link").click()
    page.wait_for_load_state()

    expect(page.locator("h1")).to_contain_text(f"#{application['id']}")
    # The plan names the member and its share: machine time for the wallets plus the leather.
    expect(page.locator("main")).to_contain_text("Sukaregang Leather Craft")
    expect(page.locator("main")).to_contain_text("Rp5.000.000")

    page.get_by_role("button", name="Jalankan cek kapasitas").click()
    page.wait_for_load_state()
    # The answer is shown at once: whether the cluster's offtake delivery dates can be met.
    report = page.locator("section[aria-labelledby=capacity-heading] [role=status]")
    expect(report).to_contain_text("pengiriman dapat dipenuhi")
    expect(report).to_contain_text("Dicek ")
    screenshot(page, "aggregator-application")

    page.get_by_role("button", name="Setujui").click()
    # Asked once, naming the application and what approving does.
    confirm = page.locator("dialog.confirm")
    expect(confirm).to_contain_text(f"Setujui pengajuan #{application['id']}?")
    confirm.locator("button.danger").click()
    page.wait_for_load_state()
    expect(page.locator(".flash").first).to_have_text(f"Pengajuan #{application['id']} disetujui.")
    expect(page.locator(".badge").first).to_have_text("disetujui")
    expect(page.get_by_role("button", name="Setujui")).to_have_count(0)

    page.goto("/aggregator/applications")
    decided = page.locator("tbody tr").filter(
        has=page.get_by_role("link", name=f"#{application['id']}", exact=True)
    )
    expect(decided.locator(".badge")).to_have_text("disetujui")


def test_an_aggregator_records_an_offtake_agreement_and_a_purchase_in_the_browser(
    clock, page, screenshot
):
    sign_in(page, AGGREGATOR)
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Offtake", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Perjanjian offtake")

    # The Jembrana cocoa cluster's house is in Bali (WITA): the days are Bali's.
    today = clock.today("Asia/Makassar")
    page.get_by_label("Klaster", exact=True).select_option(label="Klaster Kakao Jembrana")
    product = page.locator('optgroup[label="Klaster Kakao Jembrana"] option').first
    product_name = product.inner_text().strip()
    page.get_by_label("Produk", exact=True).select_option(value=product.get_attribute("value"))
    page.get_by_label("Jumlah yang disepakati").fill("30")
    page.get_by_label("Harga per unit (Rp)").fill("25.000")
    page.get_by_label("Pengiriman 1: tanggal").fill((today + dt.timedelta(days=30)).isoformat())
    page.get_by_label("Pengiriman 1: jumlah").fill("10")
    page.get_by_label("Pengiriman 2: tanggal").fill((today + dt.timedelta(days=60)).isoformat())
    page.get_by_label("Pengiriman 2: jumlah").fill("20")
    page.get_by_role("button", name="Catat perjanjian").click()
    page.wait_for_load_state()

    expect(page.locator("h1")).to_contain_text("Perjanjian offtake #")
    expect(page.locator("h1")).to_contain_text(product_name)
    expect(page.locator(".flash.ok")).to_contain_text("sudah dicatat")
    deliveries = page.locator("section[aria-labelledby=deliveries-heading] tbody tr")
    expect(deliveries).to_have_count(2)
    expect(page.locator("main")).to_contain_text("Rp750.000")  # 30 × Rp25.000

    page.get_by_label("Dikirim pada").fill(today.isoformat())
    page.get_by_label("Jumlah yang dikirim").fill("10")
    page.get_by_role("button", name="Catat pembelian").click()
    confirm = page.locator("dialog.confirm")
    expect(confirm).to_contain_text("Catat pembelian ini?")
    confirm.locator("button.danger").click()
    page.wait_for_load_state()

    expect(page.locator(".flash.ok")).to_contain_text("Pembelian sudah dicatat")
    bought = page.locator("section[aria-labelledby=purchases-heading] tbody tr")
    expect(bought).to_have_count(1)
    expect(bought.first).to_contain_text("Rp250.000")
    left = page.locator(".figures > div").filter(has=page.locator("dt", has_text="Belum dikirim"))
    expect(left.locator("dd")).to_have_text("20")
    screenshot(page, "aggregator-offtake")
