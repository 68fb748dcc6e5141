"""Real-browser tests: the app served over HTTP in a background thread, driven by Chromium.

The browser is Debian's `chromium` package (/usr/bin/chromium, installed by `make test-install`)
driven by Playwright for Python; Playwright's own browser downloads are never used. When either
is missing every test here is skipped with the reason.

The server runs on its own temporary SQLite file, migrated and loaded with the demo data exactly
as `factoryshare init-db` and `load-demo` do. It stays on SQLite even when DATABASE_URL points to
PostgreSQL: these tests commit real data through a live server, which the main suite's
rolled-back-per-test PostgreSQL database must not receive, and the database behaviour itself is
covered there; what is tested here is what a browser shows.

One server and one browser serve the whole session; each test gets a fresh browser context
(no cookies), so tests do not depend on each other's sign-in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying to reach Google's hosts from a closed
# network; root needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# The demo accounts (README "Demo accounts"; fixtures/people.py).
MEMBER = ("asep@sukaregangleather.id", "demo-anggota-2026")
OTHER_MEMBER = ("ketut@kakaonusa.id", "demo-anggota-2026")
MANAGER = ("manajer.garut@factoryshare.id", "demo-manajer-2026")
AGGREGATOR = ("pembiayaan@mitranusantara.coop.id", "demo-agregator-2026")
ADMIN = ("admin@factoryshare.id", "demo-admin-2026")


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(make test-install does it as root)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    from factoryshare.config import Settings

    instance = tmp_path_factory.mktemp("e2e-instance")
    return Settings.from_env(
        {
            "FACTORYSHARE_ENV": "test",
            "SECRET_KEY": "e2e-secret-key-that-is-long-enough-for-the-pages",
            "FACTORYSHARE_INSTANCE": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'e2e.db'}",
            # The worker is called from the test on two cores shared with the server and browser.
            "SOLVER_WORKERS": "1",
            "SOLVER_MAX_SECONDS": "10",
        }
    )


@pytest.fixture(scope="session")
def e2e_clock() -> Iterator[Any]:
    """The product's clock frozen for the whole browser session (tests/clock.py), from before
    the demo data is loaded: the served pages, the demo's dates and the tests' "tomorrow" all
    read the same instant, whatever day the suite runs."""
    from factoryshare import clock as product_clock
    from tests.clock import FrozenClock

    frozen = FrozenClock()
    with product_clock.using(frozen.now):
        yield frozen


@pytest.fixture(autouse=True)
def clock(e2e_clock: Any) -> Any:
    """The session's frozen clock (instead of a fresh one per test: the server and the demo
    data outlive a test)."""
    return e2e_clock


@pytest.fixture(scope="session")
def e2e_sessions(e2e_settings: Any, e2e_clock: Any) -> Any:
    """The session factory of the served database, migrated and holding the demo data."""
    from factoryshare.db import make_engine, make_session_factory, transaction
    from factoryshare.migrate import upgrade
    from fixtures.demo import load_demo

    upgrade(e2e_settings.database_url)
    engine = make_engine(e2e_settings.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        load_demo(session)
    yield factory
    engine.dispose()


@pytest.fixture(scope="session")
def base_url(e2e_settings: Any, e2e_sessions: Any) -> Iterator[str]:
    """The app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""
    from werkzeug.serving import make_server

    from api import create_app

    app = create_app(e2e_settings, session_factory=e2e_sessions)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh desktop-sized page (its own cookies) on the served app."""
    context = browser.new_context(
        base_url=base_url, viewport=DESKTOP, locale="id-ID", timezone_id="Asia/Jakarta"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots with UPDATE_SCREENSHOTS=1 (then commit the PNGs); otherwise a temporary
    folder, so that an ordinary test run does not rewrite the committed pictures (their dates
    change every day)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture()
def screenshot(screenshot_dir: Path) -> Any:
    """`screenshot(page, name)` saves <name>-desktop.png (1280x800) and <name>-phone.png
    (390x844) of the current page; `full_page=False` keeps only the first screen of a long
    page, `at=selector` one screen from that element down (both keep the PNGs small). The
    viewport goes back to desktop after."""

    def take(page: Any, name: str, *, full_page: bool = True, at: str | None = None) -> None:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            if at is not None:
                # A little above the element, so that its heading shows too.
                page.locator(at).evaluate(
                    "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 70)"
                )
            path = screenshot_dir / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=full_page and at is None)
            assert path.stat().st_size > 0
        page.set_viewport_size(DESKTOP)

    return take


def api_headers(page: Any, account: tuple[str, str]) -> dict[str, str]:
    """A bearer token of `account` from the running server's API, as a member's app gets one."""
    token = page.request.post(
        "/api/v1/auth/token", data={"email": account[0], "password": account[1]}
    )
    assert token.status == 201, token.text()
    return {"Authorization": f"Bearer {token.json()['token']}"}


def request_production(
    page: Any, account: tuple[str, str], product: str, quantity: int, *, days: int = 14
) -> dict[str, Any]:
    """`account` asks for `quantity` of its `product` from tomorrow for `days` days through the
    API of the running server (the pages have no form for it)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from factoryshare import clock as product_clock

    auth = api_headers(page, account)
    products = page.request.get("/api/v1/products", headers=auth)
    assert products.ok, products.text()
    product_id = next(p["id"] for p in products.json()["items"] if p["name"] == product)
    start = (
        product_clock.now()
        .astimezone(ZoneInfo("Asia/Jakarta"))
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    start += dt.timedelta(days=1)
    created = page.request.post(
        "/api/v1/production-requests",
        headers=auth,
        data={
            "product_id": product_id,
            "quantity": quantity,
            "earliest_start": start.isoformat(),
            "due": (start + dt.timedelta(days=days)).isoformat(),
        },
    )
    assert created.status == 201, created.text()
    return created.json()


def sign_out(page: Any) -> None:
    """Forget the signed-in user: its cookies, once the page has stopped loading. A request
    still under way (a stylesheet, a script) would set the session cookie again on its
    answer, and the next sign-in would find itself signed in as the previous user."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()


def sign_in(page: Any, account: tuple[str, str]) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.locator("#email").fill(account[0])
    page.locator("#password").fill(account[1])
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, (
        f"still on the login page: {page.locator('.flash').all_inner_texts()}"
    )
