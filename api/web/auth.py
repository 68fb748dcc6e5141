"""Signing in and out, the language switch and the landing page."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from sqlalchemy import select

from api.database import db, runtime
from api.security import bind_browser_session, end_browser_session, retry_after_seconds
from api.web import (
    LANGUAGES,
    actor,
    add_nav,
    bp,
    current_user,
    home_for,
    login_user,
    logout_user,
    page,
    public_page,
    safe_next,
)
from factoryshare.errors import Locked, Unauthorized, ValidationFailed
from factoryshare.models import User
from factoryshare.services import accounts, users

add_nav("web.home", _l("Home"))


def _demo_accounts() -> list[tuple[str, str, str, str]]:
    """The demo accounts that exist in this database, listed on the login page outside
    production so that `make run` can be tried at once."""
    if runtime().settings.env == "production":
        return []
    try:
        from fixtures.people import ACCOUNTS
    except ImportError:  # pragma: no cover - fixtures are not shipped
        return []
    emails = [email for _role, email, _pw, _sees in ACCOUNTS]
    present = set(db().scalars(select(User.email).where(User.email.in_(emails))))
    return [account for account in ACCOUNTS if account[1] in present]


@bp.route("/")
@public_page
def index():  # type: ignore[no-untyped-def]
    user = current_user()
    if user is None:
        return redirect(url_for("web.login"))
    return redirect(home_for(user))


@bp.route("/login", methods=["GET", "POST"])
@public_page
def login():  # type: ignore[no-untyped-def]
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        user = current_user()
        if user is not None:
            return redirect(next_url or home_for(user))
        return render_template("login.html", next=next_url, email="", demo=_demo_accounts())
    email = (request.form.get("email") or "").strip()[:254]
    password = (request.form.get("password") or "")[:256]
    settings = runtime().settings
    session_ = db()
    error = None
    status = 200
    # The session lasts as long as the cookie; its token is what makes it valid.
    lifetime = int(current_app.permanent_session_lifetime.total_seconds() // 60)
    try:
        issued = accounts.sign_in(
            session_,
            email,
            password,
            ttl_minutes=lifetime,
            max_failures=settings.login_max_failures,
            lock_minutes=settings.login_lock_minutes,
        )
    except Locked:
        error, status = (
            _("Too many failed sign-ins: this account is locked for a while. Try again later."),
            423,
        )
    except Unauthorized as err:
        if err.code == "account_inactive":
            error = _("This account has been deactivated.")
        else:
            error = _("Wrong e-mail or password.")
        status = 401
    if error is not None:
        # The failed attempt counts even though the answer is an error.
        session_.commit()
        return render_template(
            "login.html", next=next_url, email=email, error=error, demo=_demo_accounts()
        ), status
    # The page session is bound to the token sign_in issued: revoking it (sign out, a new
    # password, deactivation) ends the session on the server.
    login_user(issued.user)
    bind_browser_session(issued.token)
    return redirect(next_url or home_for(issued.user))


@bp.errorhandler(RateLimitExceeded)
def _too_many_sign_ins(_err: RateLimitExceeded):  # type: ignore[no-untyped-def]
    seconds = retry_after_seconds()
    minutes = max(1, -(-seconds // 60))
    error = ngettext(
        "Too many sign-in attempts. Try again in %(num)d minute.",
        "Too many sign-in attempts. Try again in %(num)d minutes.",
        minutes,
    )
    email = (request.form.get("email") or "").strip()[:254]
    return (
        render_template(
            "login.html",
            next=safe_next(request.values.get("next")),
            email=email,
            error=error,
            demo=_demo_accounts(),
        ),
        429,
        {"Retry-After": str(seconds)},
    )


@bp.route("/logout", methods=["POST"])
@public_page
def logout():  # type: ignore[no-untyped-def]
    end_browser_session()
    logout_user()
    return redirect(url_for("web.login"))


@bp.route("/language", methods=["POST"])
@public_page
def language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user() is not None:
            try:
                users.update_own_profile(db(), actor(), {"language": lang})
            except ValidationFailed:
                db().rollback()
    return redirect(safe_next(request.form.get("next")) or url_for("web.index"))


@bp.route("/home")
@page()
def home():  # type: ignore[no-untyped-def]
    return render_template("home.html")


@bp.route("/favicon.ico")
@public_page
def favicon():  # type: ignore[no-untyped-def]
    """Browsers that ask for /favicon.ico without reading the page's <link rel=icon>."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
