"""The pages work under their Content-Security-Policy: no rule is broken in a real browser,
and the calendar address still selects itself for copying (a static script, no inline one)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MANAGER, MEMBER, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return found


def test_a_members_pages_break_no_rule_of_the_content_security_policy(page):
    violations = _violations(page)
    sign_in(page, MEMBER)
    for path in ("/slots", "/bookings", "/production", "/permits", "/loans", "/statement"):
        response = page.goto(path)
        assert response is not None and response.ok, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto("/calendar")
    page.get_by_role("button", name="Buat alamat saya").click()
    page.wait_for_load_state()
    field = page.locator("#feed-url")
    field.focus()
    selected = page.evaluate(
        "() => { const f = document.getElementById('feed-url');"
        " return f.selectionEnd - f.selectionStart; }"
    )
    assert selected == len(field.input_value()) > 0
    assert violations == []


def test_a_managers_pages_break_no_rule_of_the_content_security_policy(page):
    violations = _violations(page)
    sign_in(page, MANAGER)
    for path in (
        "/home",
        "/manager/queue",
        "/manager/runs",
        "/manager/utilisation",
        "/manager/timeline",
        "/manager/permits",
        "/manager/downtimes",
    ):
        response = page.goto(path)
        assert response is not None and response.status < 500, path
    assert violations == []


def test_the_admins_pages_and_the_shared_scripts_break_no_rule_of_the_content_security_policy(page):
    """The favicon, confirm.js (its dialog opened) and tables.js load under the policy."""
    from tests.e2e.conftest import ADMIN, PHONE

    violations = _violations(page)
    sign_in(page, ADMIN)
    page.set_viewport_size(PHONE)
    for path in ("/home", "/admin/houses", "/admin/users", "/admin/jobs", "/admin/audit"):
        response = page.goto(path)
        assert response is not None and response.ok, path
    page.goto("/admin/users")
    page.locator("form[data-confirm] button[type=submit]").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    # tables.js ran: the stacked rows keep their table role.
    assert page.locator("table.stack-cards tbody tr").first.get_attribute("role") == "row"
    icon = page.evaluate("fetch('/static/favicon.svg').then(r => r.status)")
    assert icon == 200
    assert violations == []
