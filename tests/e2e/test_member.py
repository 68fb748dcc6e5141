"""A member in a real browser: signs in, finds a free slot, books it and sees it in the list;
the language switch turns the pages from Indonesian to English and back."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import MEMBER, OTHER_MEMBER, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

GARUT = ZoneInfo("Asia/Jakarta")  # the demo member's house is in Garut (WIB)


def _find_a_day_with_free_slots(page) -> None:  # type: ignore[no-untyped-def]
    """Search day after day from tomorrow (the house is closed on Sundays and holidays) until
    the page lists free slots."""
    day = dt.datetime.now(GARUT).date()
    for _ in range(14):
        day += dt.timedelta(days=1)
        if day.weekday() == 6:
            continue
        page.locator("#day").fill(day.isoformat())
        page.locator("form.search button[type=submit]").click()
        page.wait_for_load_state()
        if page.locator("button.slot").count():
            return
    raise AssertionError("no free slot in the next two weeks")


def test_a_member_signs_in_finds_a_free_slot_books_it_and_sees_it_in_the_bookings_list(page, screenshot):
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("Masuk")
    screenshot(page, "login")

    sign_in(page, MEMBER)
    expect(page.locator("h1")).to_have_text("Pesan mesin")
    _find_a_day_with_free_slots(page)
    screenshot(page, "find-slot", full_page=False)  # one screen of a long list

    slot = page.locator("button.slot").first
    machine = slot.locator("xpath=ancestor::section[contains(@class,'machine')]//h3").inner_text()
    machine = machine.rsplit(" ", 1)[0]  # the heading ends with the machine's code
    time = slot.locator(".time").inner_text()  # "09:00–10:00"
    price = slot.locator(".price").inner_text()
    slot.click()
    page.wait_for_load_state()

    assert page.url.endswith("/bookings")
    # The demo's Garut house confirms bookings itself, so the new one is held until then.
    expect(page.locator(".flash").first).to_contain_text(f"Ditahan: {machine}")
    booking = page.locator("li.booking").filter(has_text=machine).filter(
        has_text=time.split("–")[0]).filter(has_text=price)
    expect(booking).to_have_count(1)
    expect(booking.locator(".badge")).to_have_text("ditahan")
    screenshot(page, "my-bookings")


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
