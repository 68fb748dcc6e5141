"""Signing in, browser sessions and what every answer tells the browser (issue 14).

- an unknown e-mail gets the answer of a known one with a wrong password, after the same work;
- sign-ins are rate limited per e-mail address and per client (429 with Retry-After);
- signing out and a password change end sessions on the server;
- the JSON API takes a browser session only with the page's CSRF token;
- security headers on the API, the pages and error answers.
"""

from __future__ import annotations

import dataclasses
import socket
import uuid

import pytest

from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import accounts
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf, sign_in

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def _app(settings, session_factory, config=None, **changes):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app(
        dataclasses.replace(settings, **changes), session_factory=session_factory, config=config
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def count_password_checks(monkeypatch):  # type: ignore[no-untyped-def]
    """How many passwords sign-in has checked (real Argon2 work each time)."""
    calls: list[str] = []
    check = accounts._password_matches

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return check(password_hash, password)

    monkeypatch.setattr(accounts, "_password_matches", counting)
    return calls


# --- unknown e-mail addresses ---------------------------------------------------------------


def test_an_unknown_e_mail_gets_the_same_answer_and_work_as_a_wrong_password(
    client, make_user, count_password_checks
):
    user = make_user()
    known = client.post(TOKEN, json={"email": user.email, "password": "not-the-password"})
    checks_for_known = len(count_password_checks)
    unknown = client.post(
        TOKEN, json={"email": "nobody-here@example.id", "password": "not-the-password"}
    )
    assert unknown.status_code == known.status_code == 401
    assert unknown.get_json() == known.get_json()
    assert checks_for_known == 1
    assert len(count_password_checks) == 2, "the unknown address spent no Argon2 check"


def test_an_unknown_e_mail_is_locked_like_a_known_one_after_repeated_failures(client, make_user):
    user = make_user()
    answers = {}
    for email in (user.email, "nobody-either@example.id"):
        for _ in range(5):
            r = client.post(TOKEN, json={"email": email, "password": "wrong-password"})
            assert r.status_code == 401
        answers[email] = client.post(TOKEN, json={"email": email, "password": "wrong-password"})
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 423
    assert known.get_json()["code"] == unknown.get_json()["code"] == "account_locked"
    assert known.get_json()["message"] == unknown.get_json()["message"]


def test_a_locked_account_checks_no_password(client, make_user, count_password_checks):
    user = make_user()
    for _ in range(5):
        client.post(TOKEN, json={"email": user.email, "password": "wrong-password"})
    assert len(count_password_checks) == 5
    r = client.post(TOKEN, json={"email": user.email, "password": TEST_PASSWORD})
    assert r.status_code == 423
    assert len(count_password_checks) == 5


# --- rate limits ----------------------------------------------------------------------------


def _assert_too_many(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 429
    body = r.get_json()
    assert body["code"] == "too_many_requests"
    assert set(body) >= {"code", "status", "message", "errors"}
    assert int(r.headers["Retry-After"]) >= 1


def test_sign_ins_for_one_address_over_the_limit_answer_429_with_retry_after(
    settings, session_factory, make_user
):
    app = _app(
        settings,
        session_factory,
        signin_limit_per_address="3 per minute",
        signin_limit_per_client="100 per minute",
    )
    client = app.test_client()
    user, other = make_user(), make_user()
    for _ in range(3):
        assert client.post(TOKEN, json={"email": user.email, "password": "x"}).status_code == 401
    _assert_too_many(client.post(TOKEN, json={"email": user.email.upper(), "password": "x"}))
    # Even the right password waits, and the login page counts against the same limit.
    _assert_too_many(client.post(TOKEN, json={"email": user.email, "password": TEST_PASSWORD}))
    page = sign_in(client, user)
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "Terlalu banyak percobaan masuk" in page.get_data(as_text=True)
    # Another address from the same client is not held up.
    assert (
        client.post(TOKEN, json={"email": other.email, "password": TEST_PASSWORD}).status_code
        == 201
    )


def test_sign_ins_from_one_client_over_the_limit_answer_429(settings, session_factory, make_user):
    app = _app(
        settings,
        session_factory,
        signin_limit_per_address="100 per minute",
        signin_limit_per_client="3 per minute",
    )
    client = app.test_client()
    for i in range(3):
        r = client.post(TOKEN, json={"email": f"guess{i}@example.id", "password": "x"})
        assert r.status_code == 401
    _assert_too_many(client.post(TOKEN, json={"email": "guess9@example.id", "password": "x"}))
    user = make_user()
    elsewhere = client.post(
        TOKEN,
        json={"email": user.email, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert elsewhere.status_code == 201


def test_behind_a_trusted_proxy_the_per_client_limit_counts_the_forwarded_address(
    settings, session_factory
):
    app = _app(
        settings,
        session_factory,
        trusted_proxies=1,
        signin_limit_per_address="100 per minute",
        signin_limit_per_client="2 per minute",
    )
    client = app.test_client()

    def attempt(n: int, address: str):  # type: ignore[no-untyped-def]
        return client.post(
            TOKEN,
            json={"email": f"proxied{n}@example.id", "password": "x"},
            headers={"X-Forwarded-For": address},
        )

    assert [attempt(i, "203.0.113.5").status_code for i in range(2)] == [401, 401]
    _assert_too_many(attempt(3, "203.0.113.5"))
    assert attempt(4, "203.0.113.6").status_code == 401


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_two_app_instances_sharing_redis_share_the_sign_in_count(settings, session_factory):
    if not _redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    config = {"RATELIMIT_KEY_PREFIX": f"factoryshare-test-{uuid.uuid4().hex}"}
    workers = [
        _app(
            settings,
            session_factory,
            config=config,
            signin_limit_per_address="3 per minute",
            signin_limit_per_client="100 per minute",
            ratelimit_storage_uri="redis://127.0.0.1:6379",
        ).test_client()
        for _ in range(2)
    ]
    body = {"email": "shared-count@example.id", "password": "x"}
    assert [workers[i].post(TOKEN, json=body).status_code for i in (0, 1, 0)] == [401] * 3
    _assert_too_many(workers[1].post(TOKEN, json=body))


# --- sessions end on the server -------------------------------------------------------------


def _signed_in_browser(app, user):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    assert sign_in(browser, user).status_code == 302
    return browser


def _copy_of(browser, app):  # type: ignore[no-untyped-def]
    """Another client holding the same session cookie (what a thief would replay)."""
    thief = app.test_client()
    cookie = browser.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def test_signing_out_ends_the_browser_session_on_the_server(app, make_user):
    user = make_user()
    browser = _signed_in_browser(app, user)
    copy = _copy_of(browser, app)
    assert copy.get(ME).status_code == 200
    token = csrf(browser, "/home")
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    r = copy.get(ME)
    assert r.status_code == 401
    assert r.get_json()["code"] == "unauthorized"
    assert copy.get("/home").status_code == 302  # back to the login page


def test_signing_out_through_the_api_ends_the_browser_session(app, make_user):
    user = make_user()
    browser = _signed_in_browser(app, user)
    copy = _copy_of(browser, app)
    r = browser.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf(browser, "/home")})
    assert r.status_code == 204
    assert copy.get(ME).status_code == 401


def test_changing_the_password_ends_the_other_sessions_and_tokens(app, client, make_user):
    user = make_user()
    here, elsewhere = _signed_in_browser(app, user), _signed_in_browser(app, user)
    api_token = client.post(
        TOKEN, json={"email": user.email, "password": TEST_PASSWORD}
    ).get_json()["token"]
    r = here.patch(
        "/api/v1/users/me",
        headers={"X-CSRFToken": csrf(here, "/home")},
        json={"current_password": TEST_PASSWORD, "password": "a-brand-new-secret-7"},
    )
    assert r.status_code == 200, r.get_json()
    assert here.get(ME).status_code == 200, "the session that changed it stays signed in"
    assert elsewhere.get(ME).status_code == 401
    assert client.get(ME, headers={"Authorization": f"Bearer {api_token}"}).status_code == 401


def test_changing_the_password_with_a_token_keeps_that_token_only(client, make_user):
    user = make_user()
    first, second = (
        client.post(TOKEN, json={"email": user.email, "password": TEST_PASSWORD}).get_json()[
            "token"
        ]
        for _ in range(2)
    )
    r = client.patch(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {first}"},
        json={"current_password": TEST_PASSWORD, "password": "a-brand-new-secret-7"},
    )
    assert r.status_code == 200, r.get_json()
    assert client.get(ME, headers={"Authorization": f"Bearer {first}"}).status_code == 200
    assert client.get(ME, headers={"Authorization": f"Bearer {second}"}).status_code == 401


# --- CSRF on the JSON API -------------------------------------------------------------------


@pytest.fixture()
def booked(make_booking, make_user):  # type: ignore[no-untyped-def]
    booking = make_booking(status=BookingStatus.confirmed)
    return booking, make_user(Role.member, member_id=booking.member_id)


@pytest.mark.parametrize("how", ["text/plain", "json"])
def test_a_browser_session_without_the_csrf_token_cannot_cancel_a_booking(app, db, booked, how):
    booking, user = booked
    browser = _signed_in_browser(app, user)
    url = f"/api/v1/bookings/{booking.id}/cancel"
    if how == "text/plain":
        r = browser.post(url, data='{"reason": "x"}', content_type="text/plain")
    else:
        r = browser.post(url, json={"reason": "x"}, headers={"X-CSRFToken": "forged"})
    assert r.status_code == 403
    body = r.get_json()
    assert body["code"] == "csrf_failed"
    assert set(body) >= {"code", "status", "message", "errors"}
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.confirmed


def test_a_browser_session_with_the_pages_csrf_token_may_cancel(app, booked):
    booking, user = booked
    browser = _signed_in_browser(app, user)
    r = browser.post(
        f"/api/v1/bookings/{booking.id}/cancel",
        json={},
        headers={"X-CSRFToken": csrf(browser, "/home")},
    )
    assert r.status_code == 200, r.get_json()
    assert browser.get(ME).status_code == 200  # reading needs no token


def test_a_bearer_token_needs_no_csrf_token(client, booked, token_for):
    booking, user = booked
    r = client.post(f"/api/v1/bookings/{booking.id}/cancel", json={}, headers=token_for(user))
    assert r.status_code == 200, r.get_json()


# --- security headers -----------------------------------------------------------------------


def _assert_security_headers(r) -> None:  # type: ignore[no-untyped-def]
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")


def test_every_answer_carries_the_security_headers(client, make_user, token_for):
    user = make_user()
    answers = {
        "api": client.get(ME, headers=token_for(user)),
        "page": client.get("/login"),
        "missing page": client.get("/no-such-page"),
        "missing api": client.get("/api/v1/no-such-thing"),
        "api error": client.get(ME),
    }
    assert [r.status_code for r in answers.values()] == [200, 200, 404, 404, 401]
    for r in answers.values():
        _assert_security_headers(r)
        assert "Strict-Transport-Security" not in r.headers


def test_production_answers_demand_https(settings, session_factory):
    app = _app(settings, session_factory, env="production")
    r = app.test_client().get("/login")
    _assert_security_headers(r)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
