"""Basic accessibility of every role's main pages, checked in the real browser at desktop and
phone width: every form field has a label, every button and link a name, text keeps WCAG's
contrast (4.5:1, 3:1 for large text) against what is really behind it, the page never gets
wider than a phone's screen (wide charts and tables scroll inside their own box), and a person
with only a keyboard can sign in and see where the focus is."""

from __future__ import annotations

from typing import Any

import pytest

from factoryshare import clock as product_clock
from tests.e2e.conftest import ADMIN, AGGREGATOR, MANAGER, MEMBER, PHONE, sign_in

LENDER = ("kredit@bankrakyatdemo.id", "demo-bank-2026")  # the demo bank's credit officer

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

# Run inside the page; returns what a person using a screen reader, a keyboard, a phone or
# poor eyesight would trip over, one line each.
AUDIT = """
() => {
  const problems = [];
  const shown = e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '');

  if (!document.documentElement.lang) problems.push('the page has no language');
  if (!document.title.trim()) problems.push('the page has no title');
  if (document.querySelectorAll('h1').length !== 1) problems.push('the page has not exactly one h1');

  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset'].includes(e.type) || !shown(e)) continue;
    if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')
        && !e.getAttribute('aria-labelledby') && !e.title) {
      problems.push('field without a label: ' + name(e));
    }
  }
  for (const e of document.querySelectorAll('button, a[href], [role=button]')) {
    if (!shown(e)) continue;
    if (!(e.innerText || '').trim() && !e.getAttribute('aria-label') && !e.title) {
      problems.push('button or link without a name: ' + name(e));
    }
  }

  const rgba = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const luminance = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The colour behind an element: its own background and its ancestors', blended, or null
  // where an image or gradient is behind it (no single colour to measure against).
  const behind = e => {
    const layers = [];
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;
      const c = rgba(s.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      colour = [r * a + colour[0] * (1 - a), g * a + colour[1] * (1 - a), b * a + colour[2] * (1 - a)];
    }
    return colour;
  };
  const seen = new Set();
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') || !shown(e) || e.disabled || e.closest('[aria-hidden=true]')) continue;
    const text = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!text) continue;
    const s = getComputedStyle(e);
    if (e.closest('.sr') || s.clip === 'rect(0px, 0px, 0px, 0px)') continue;  // screen readers only
    const fg = rgba(s.color), bg = behind(e);
    if (!fg || !bg) continue;
    const blended = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [luminance(blended), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const line = 'contrast ' + ratio.toFixed(2) + ' < ' + needed + ': ' + name(e) + ' "' + text.slice(0, 30) + '"';
    if (ratio < needed && !seen.has(line)) { seen.add(line); problems.push(line); }
  }

  // Wide charts and tables may scroll sideways inside a box of their own; the page may not.
  const clipped = e => {
    for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(n).overflowX)) return true;
    }
    return false;
  };
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  if (overflow > 1) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter(e => shown(e) && e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e))
      .slice(0, 3).map(name);
    problems.push('the page is ' + overflow + 'px wider than the screen: ' + wide.join(', '));
  }
  return problems;
}
"""

PAGES = {
    None: ["/login"],
    MEMBER: [
        "/slots",
        "/bookings",
        "/production",
        "/permits",
        "/loans",
        "/statement",
        "/calendar",
        "/inbox",
        "/production/new",
    ],
    MANAGER: [
        "/manager",
        "/manager/timeline",
        "/manager/timeline?view=week",
        "/manager/queue",
        "/manager/runs",
        "/manager/utilisation",
        "/manager/downtimes",
        "/manager/permits",
        "/manager/calendar",
    ],
    AGGREGATOR: ["/aggregator/applications", "/aggregator/clusters", "/aggregator/offtake"],
    ADMIN: ["/admin/houses", "/admin/users", "/admin/jobs", "/admin/audit"],
    LENDER: ["/lender/applications", "/lender/loans"],
}


def _audit(page: Any, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response.status if response else '-'}"
    return [f"{url} ({page.viewport_size['width']}px): {p}" for p in page.evaluate(AUDIT)]


def _member_pages(page: Any) -> list[str]:
    """The member's pages reached from others: the day grid of a day with free slots, the
    review of its first slot, the estimate of a request, a request's page, a move."""
    import datetime as dt

    found: list[str] = []
    page.goto("/slots")
    for _ in range(14):
        if page.locator("table.slot-grid a.cell").count():
            break
        page.locator("a[rel=next]").click()
        page.wait_for_load_state()
    found.append(page.url)
    found.append(page.locator("table.slot-grid a.cell").first.get_attribute("href"))
    page.goto("/production/new")
    product = page.locator("#product_id option").first.get_attribute("value")
    start = product_clock.now().date() + dt.timedelta(days=1)
    found.append(
        f"/production/new?product_id={product}&quantity=10&earliest_on={start}"
        f"&due_on={start + dt.timedelta(days=14)}&estimate=1"
    )
    for url, link in (("/production", "section.request h2 a"), ("/bookings", "a[href$='/move']")):
        page.goto(url)  # what the demo member has (other tests may add more)
        if page.locator(link).count():
            found.append(page.locator(link).first.get_attribute("href"))
    return found


def _linked(page: Any, listing: str, prefix: str) -> list[str]:
    """The first page `listing` links to under `prefix` (none when it links to none)."""
    page.goto(listing)
    links = page.locator(f"main a[href^='{prefix}']")
    return [links.first.get_attribute("href")] if links.count() else []


@pytest.mark.parametrize(
    "account", list(PAGES), ids=["anonymous", "member", "manager", "aggregator", "admin", "lender"]
)
def test_every_main_page_has_labels_names_contrast_and_fits_a_phone(page, account):
    if account is not None:
        sign_in(page, account)
    urls = list(PAGES[account])
    if account is AGGREGATOR:
        # Every application the aggregator can open, as well as the lists.
        page.goto("/aggregator/applications")
        urls += sorted(
            {
                href
                for href in page.locator("a[href*='/aggregator/applications/']").evaluate_all(
                    "links => links.map(a => a.getAttribute('href'))"
                )
            }
        )
        # A loan and an offtake agreement of the demo, with their schedule and purchases.
        urls += _linked(page, "/aggregator/clusters", "/aggregator/loans/")
        urls += _linked(page, "/aggregator/offtake", "/aggregator/offtake/")
    if account is LENDER:
        urls += _linked(page, "/lender/applications", "/lender/applications/")
        urls += _linked(page, "/lender/loans", "/lender/loans/")
    if account is MEMBER:
        urls += _member_pages(page)
    if account is MANAGER:
        # A run's review page and a downtime's result, when the demo (or a test before) has one.
        urls += _linked(page, "/manager/runs", "/manager/runs/")
        urls += _linked(page, "/manager/downtimes", "/manager/downtimes/")
    problems: list[str] = []
    for size in (None, PHONE):
        if size is not None:
            page.set_viewport_size(size)
        for url in urls:
            problems += _audit(page, url)
    assert problems == []


def test_a_person_with_only_a_keyboard_can_skip_to_the_content_and_sign_in(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    # The skip link shows itself when it has the focus, with a visible focus ring.
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"

    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.type"))
        if focused[-1] == "email":
            break
    assert focused[-1] == "email", f"the e-mail field is not reached by Tab: {focused}"
    page.keyboard.type(MEMBER[0])
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(MEMBER[1])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url
    expect(page.locator("h1")).to_have_text("Pesan mesin")


def test_the_confirmation_dialog_is_named_labelled_readable_and_fits_a_phone(page):
    """confirm.js's dialog, open over the admin's user list at phone width and on a desktop."""
    sign_in(page, ADMIN)
    problems: list[str] = []
    for size in (PHONE, {"width": 1280, "height": 800}):
        page.set_viewport_size(size)
        page.goto("/admin/users?role=lender")
        page.locator("form[data-confirm] button[type=submit]").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        # Named by its question, and the page behind it is out of reach (a modal dialog).
        assert dialog.get_attribute("aria-labelledby")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
        problems += [f"dialog ({size['width']}px): {p}" for p in page.evaluate(AUDIT)]
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    assert problems == []


def test_an_admins_house_page_has_labels_names_contrast_and_fits_a_phone(page):
    sign_in(page, ADMIN)
    page.goto("/admin/houses")
    urls = sorted(
        set(
            page.locator("a[href^='/admin/houses/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
        )
    )
    assert urls
    problems: list[str] = []
    for size in (None, PHONE):
        if size is not None:
            page.set_viewport_size(size)
        for url in urls + ["/home"]:
            problems += _audit(page, url)
    assert problems == []
