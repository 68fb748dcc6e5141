"""What holds on every page, checked in the real browser: an irreversible action asks once
and sends nothing until confirmed (with the reason where one is needed), wide tables become
cards or scroll with a visible hint on a phone, the favicon is served, and numbers, durations,
statuses and holidays read in the page's language."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, AGGREGATOR, MANAGER, MEMBER, PHONE, sign_in, sign_out

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

LENDER = ("kredit@bankrakyatdemo.id", "demo-bank-2026")  # the demo bank's credit officer
# A demo account no other browser test signs in with: deactivated and reactivated here.
SPARE = "manajer.jembrana@factoryshare.id"


def _to_english(page: Any) -> None:
    page.locator("form.lang button[value=en]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _row_of(page: Any, email: str) -> Any:
    return page.locator("tbody tr", has_text=email)


def test_deactivating_a_user_asks_once_and_sends_nothing_until_confirmed(page):
    sign_in(page, ADMIN)
    page.goto(f"/admin/users?search={SPARE}")
    row = _row_of(page, SPARE)
    expect(row.locator(".badge")).to_have_text("aktif")
    deactivate = row.get_by_role("button", name=re.compile("Nonaktifkan"))

    # Asked first, in Indonesian, naming whom it changes; Escape sends nothing and gives the
    # focus back to the button.
    deactivate.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(SPARE)
    expect(dialog.get_by_role("button", name="Tidak, kembali")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(deactivate).to_be_focused()
    expect(row.locator(".badge")).to_have_text("aktif")

    # "No, go back" by keyboard: still nothing sent.
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Enter")  # the focused "Tidak, kembali"
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row.locator(".badge")).to_have_text("aktif")

    try:
        deactivate.click()
        with page.expect_navigation():
            page.get_by_role("dialog").get_by_role("button", name="Nonaktifkan").click()
        expect(page.locator(".flash.ok")).to_contain_text(f"{SPARE} telah dinonaktifkan")
        expect(_row_of(page, SPARE).locator(".badge")).to_have_text("nonaktif")
    finally:
        # Reactivating takes nothing away: it is sent at once, without a question.
        page.goto(f"/admin/users?search={SPARE}")
        again = _row_of(page, SPARE).get_by_role("button", name=re.compile("Aktifkan kembali"))
        if again.count():
            with page.expect_navigation():
                again.click()
    expect(_row_of(page, SPARE).locator(".badge")).to_have_text("aktif")


def test_a_confirmation_that_needs_a_reason_sends_it_in_the_forms_reason_field(page):
    """confirm.js on a form with data-confirm-reason="required" (added to a real page, posting
    to the language switch, so that nothing of the demo data changes)."""
    sign_in(page, ADMIN)
    page.goto("/admin/houses")
    page.evaluate("""() => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = '/language';
        form.id = 'probe';
        form.setAttribute('data-confirm', 'Cancel the booking? The member reads your reason.');
        form.setAttribute('data-confirm-reason', 'required');
        form.innerHTML = '<input type="hidden" name="csrf_token" value="'
            + document.querySelector('input[name=csrf_token]').value + '">'
            + '<input type="hidden" name="next" value="/admin/houses">'
            + '<button type="submit" name="lang" value="id">Cancel booking</button>';
        document.querySelector('main').appendChild(form);
    }""")
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)

    page.locator("#probe button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("The member reads your reason.")
    reason = dialog.get_by_label("Alasan")
    expect(reason).to_be_focused()
    # Without a reason the dialog stays and nothing is sent.
    dialog.get_by_role("button", name="Ya, lanjutkan").click()
    expect(dialog).to_be_visible()
    assert reason.evaluate("e => e.validity.valueMissing") is True
    assert sent == []

    reason.fill("Mesin rusak mendadak")
    with page.expect_request("**/language") as request:
        dialog.get_by_role("button", name="Ya, lanjutkan").click()
    body = request.value.post_data or ""
    assert "reason=Mesin+rusak+mendadak" in body and "lang=id" in body
    assert len(sent) == 1


def test_a_wide_table_becomes_one_card_per_row_at_phone_width(page):
    sign_in(page, ADMIN)
    page.goto("/admin/users")
    first = page.locator("table.stack-cards tbody tr").first
    role_cell = first.locator("td").nth(2)
    assert first.evaluate("e => getComputedStyle(e).display") == "table-row"

    page.set_viewport_size(PHONE)
    assert first.evaluate("e => getComputedStyle(e).display") == "block"
    assert (
        page.locator("table.stack-cards thead").evaluate("e => e.getBoundingClientRect().height")
        <= 1
    )
    # Each cell says its column, and the card fits the screen.
    label = role_cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"Peran"'
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # A screen reader still reads a table.
    assert first.get_attribute("role") == "row" and role_cell.get_attribute("role") == "cell"


def test_a_table_that_scrolls_sideways_on_a_phone_says_so(page):
    sign_in(page, AGGREGATOR)
    page.set_viewport_size(PHONE)
    page.goto("/aggregator/applications")
    hint = page.locator(".scroll-hint").first
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Geser ke samping untuk melihat lainnya →")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(hint).to_be_hidden()


def test_every_page_shows_the_favicon_and_it_is_served(page):
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto("/login")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/static/favicon.svg"
    icon = page.request.get(href)
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in icon.text()
    # Browsers that ask for /favicon.ico find it too.
    assert page.request.get("/favicon.ico").ok
    assert violations == []


def test_an_indonesian_page_writes_durations_in_jam_and_numbers_with_a_decimal_comma(page):
    sign_in(page, ADMIN)
    page.goto("/admin/jobs")
    latest = page.locator("table").first
    expect(latest.locator("tr", has_text="installment_reminders")).to_contain_text("24 jam")
    expect(latest.locator("tr", has_text="expire_holds")).to_contain_text("5 menit")
    page.goto("/admin/houses")
    page.locator("tbody a").first.click()
    expect(page.locator(".figures")).to_contain_text("30 menit")
    expect(page.locator("tbody td.num").first).to_have_text(re.compile(r"^Rp\d{1,3}(\.\d{3})+$"))

    # The machine hours of a loan's plan with a decimal comma, never a point.
    sign_out(page)
    sign_in(page, AGGREGATOR)
    page.goto("/aggregator/applications")
    page.locator("a[href*='/aggregator/applications/']").first.click()
    # Wait for the application page itself: reading (and signing out) while the click's
    # navigation is still under way left the next sign-in without its form.
    page.wait_for_url(re.compile(r".*/aggregator/applications/\d+$"))
    main = page.locator("main").inner_text()
    assert re.search(r"\b\d+,\d\b", main), main
    assert not re.search(r"\b\d+\.\d\b(?!\d)", main.replace("Rp", "")), main

    # A member's statement: hours as "8 jam", statuses in words, no "KUR KUR" on the loans.
    sign_out(page)
    sign_in(page, MEMBER)
    page.goto("/statement")
    figures = page.locator("main dl").first
    expect(figures).to_contain_text(re.compile(r"\d+ jam"))
    expect(figures).not_to_contain_text(re.compile(r"\d[.,]\d+ (jam|h)\b"))
    expect(page.locator("main")).not_to_contain_text("confirmed")
    page.goto("/loans")
    expect(page.locator("main")).not_to_contain_text("KUR KUR")


def _to_indonesian(page: Any) -> None:
    """Back to Indonesian: the switch is kept on the account, which the other tests share."""
    page.locator("form.lang button[value=id]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "id")


def test_an_english_page_names_statuses_capabilities_and_holidays_in_english(clock, page):
    sign_in(page, ADMIN)
    page.goto("/admin/houses")
    page.locator("tbody a").first.click()
    machines = page.locator("table.stack-cards tbody")
    expect(machines).to_contain_text("beroperasi")
    expect(machines).to_contain_text("Menjahit")
    _to_english(page)
    try:
        expect(machines).to_contain_text("in service")
        expect(machines).to_contain_text("Sewing")
        expect(machines).not_to_contain_text("Menjahit")
        expect(page.locator(".figures")).to_contain_text("30 min")
    finally:
        _to_indonesian(page)

    # A member's day that is a public holiday is named in English on an English page.
    from factoryshare.services import calendar

    day = clock.today("Asia/Jakarta") + dt.timedelta(days=1)
    while calendar.holiday_name(day) is None:
        day += dt.timedelta(days=1)
    english = calendar.holiday_name(day)
    assert english is not None
    member = page.context.browser.new_context(
        base_url=page.url.split("/admin")[0], viewport={"width": 1280, "height": 800}
    )
    try:
        other = member.new_page()
        sign_in(other, MEMBER)
        _to_english(other)
        try:
            other.goto(f"/slots?day={day.isoformat()}")
            expect(other.locator("main")).to_contain_text(str(english))
            expect(other.locator("main")).not_to_contain_text(english.translate("id"))
        finally:
            _to_indonesian(other)
    finally:
        member.close()


# The pages no flow test pictures, as each role opens them (UPDATE_SCREENSHOTS=1 writes them
# to docs/screenshots; the flow tests picture the rest).
PICTURED = {
    ADMIN: [
        ("admin-houses", "/admin/houses"),
        ("admin-users", "/admin/users"),
        ("admin-jobs", "/admin/jobs"),
        ("admin-audit", "/admin/audit"),
    ],
    MEMBER: [
        ("member-statement", "/statement"),
        ("member-loans", "/loans"),
        ("member-permits", "/permits"),
        ("member-inbox", "/inbox"),
        ("member-production", "/production"),
    ],
    MANAGER: [
        ("manager-queue", "/manager/queue"),
        ("manager-runs", "/manager/runs"),
        ("manager-utilisation", "/manager/utilisation"),
        ("manager-downtimes", "/manager/downtimes"),
        ("manager-permits", "/manager/permits"),
        ("manager-calendar", "/manager/calendar"),
    ],
    AGGREGATOR: [
        ("aggregator-applications", "/aggregator/applications"),
        ("aggregator-clusters", "/aggregator/clusters"),
    ],
    LENDER: [("lender-applications", "/lender/applications"), ("lender-loans", "/lender/loans")],
}


@pytest.mark.parametrize(
    "account", list(PICTURED), ids=["admin", "member", "manager", "aggregator", "lender"]
)
def test_each_roles_other_pages_open_in_indonesian_and_are_pictured(page, screenshot, account):
    sign_in(page, account)
    for name, path in PICTURED[account]:
        response = page.goto(path)
        assert response is not None and response.ok, path
        expect(page.locator("html")).to_have_attribute("lang", "id")
        expect(page.locator("h1")).to_have_count(1)
        screenshot(page, name, full_page=False)


def test_the_confirmation_dialog_is_pictured_over_the_users_list(page, screenshot):
    sign_in(page, ADMIN)
    page.goto(f"/admin/users?search={SPARE}")
    page.locator("form[data-confirm] button[type=submit]").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    screenshot(page, "confirm-dialog", full_page=False)
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
