"""Browser pages: server-rendered Jinja templates over the same services the API calls.

How to add pages (for every role's area):

- Write views in a module of this package on the blueprint `bp` and import the module at the
  bottom of this file. Decorate each view with `@page(Role.manager, ...)` (or `@page()` for
  any signed-in user, `@public_page` for the login page): it sends anonymous visitors to the
  login page, answers 403 to a role it does not admit, and declares the policy the role-matrix
  test looks for.
- In a view, `actor()` is the signed-in user as the services see it (factoryshare.access.Actor)
  and `db()` (api.database) the request's session: call the service, never a query of your own
  that bypasses its scope. The request commits when the response is below 400.
- Service errors (factoryshare.errors.DomainError) raised in a view render the error page in
  words; to show them on the form instead, catch them, `db().rollback()` and call
  `flash_error(err)`, which words the known codes in the user's language.
- Templates extend "base.html" (blocks: title, content). Add a menu entry with
  `add_nav("web.endpoint", _l("Label"), roles={Role.manager})`; it shows for those roles only.
- Every POST form carries `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`
  (Flask-WTF's CSRFProtect checks it on this blueprint's POSTs; the bearer-token API has none).
- Texts: `_("...")` in Python and `{{ _("...") }}` in templates; then `make translations`
  (pybabel extract / update / compile into api/translations).
- Filters (one formatter each; never format these by hand in a view or template):
  `|rupiah` (Rp1.500.000, the same in both languages), `|when(house)` (Sen 23 Nov 2026
  10:00 WIB), `|hm(house)` (10:00) (a page that writes thousands of times uses the same two
  as `HouseTime(house).when` / `.hm`: zone and language looked up once), `|day(house)`
  (Senin, 23 November 2026),
  `|number` / `|number(1)` (2,5 in Indonesian, 2.5 in English; Babel), `|percent(1)`
  (0.875 → 87,5%), `|duration` (minutes → "2 jam 15 menit" / "2 h 15 min", "2 jam", "45 menit"),
  `|status_label` (any status enum in words: booking, request, run, loan, installment,
  machine, job, permit ...; a bare string with the enum's name: `'queued'|status_label('RunStatus')`),
  `|role_label` (manajer / manager), `|capability_name` (a Capability: its stored name on
  Indonesian pages, its code in English words on English pages), `|audit_words(object_type)`
  ('booking.cancelled' → "Pemesanan dibatalkan" / "Booking cancelled"), `|object_label`
  (an audit object type in words), `|said` (a domain text: Message or Localized, e.g. a
  holiday's name from calendar.holiday_name, in the page's language), `|holiday` (a date →
  its public holiday's name in the page's language, or ""). Tables in api/web/words.py.
- Confirmations (api/static/confirm.js, loaded by base.html): `<form data-confirm="What this
  changes">` asks once in a dialog before it is sent; `data-confirm-yes="Publish"` names the
  button (default "Yes, go ahead"); `data-confirm-reason="required"` adds a required reason box whose
  text goes into the form's field `reason` (a hidden one is added when the form has none).
- Wide tables (app.css, tables.js): `<table class="stack-cards">` with `<td data-label="Column">`
  becomes one card per row at phone width (<= 600px); any other wide table goes in
  `<div class="scroll-x" tabindex="0" role="region" aria-label="...">` (or the older
  `table-scroll`), which scrolls sideways and shows a "scroll sideways" hint when it overflows.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from babel.dates import format_date
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from api.database import db
from api.web import words
from factoryshare import i18n, messages, zones
from factoryshare.access import Actor
from factoryshare.errors import DomainError
from factoryshare.models import ProductionHouse, Role, User
from factoryshare.services import calendar
from factoryshare.validation import text_problem

F = TypeVar("F", bound=Callable[..., Any])

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"

bp = Blueprint("web", __name__)
csrf = CSRFProtect()


# --- the signed-in user -------------------------------------------------------------------


def current_user() -> User | None:
    """The active user of this browser session, or None (a deactivated user is signed out)."""
    if "web_user" not in g:
        user = None
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            candidate = db().get(User, user_id)
            if candidate is not None and candidate.is_active:
                user = candidate
            else:
                session.pop("user_id", None)
        g.web_user = user
    return g.web_user


def actor() -> Actor:
    """The signed-in user as the services see it; only inside a `@page` view."""
    user = current_user()
    if user is None:
        abort(401)
    return Actor.of(user)


def login_user(user: User) -> None:
    """Start a fresh session for `user` (a new session id against fixation)."""
    session.clear()
    session["user_id"] = user.id
    session["lang"] = user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE
    session.permanent = True
    g.web_user = user


def logout_user() -> None:
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang
    g.web_user = None


def home_for(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role is Role.member:
        return url_for("web.find_slot")
    if user.role is Role.manager:
        return url_for("web.manager_home")  # what waits in the house
    return url_for("web.home")


def page(*roles: Role) -> Callable[[F], F]:
    """A page for signed-in users of `roles` (all roles when none are given)."""
    allowed = frozenset(roles) if roles else frozenset(Role)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if user.role not in allowed:
                return render_template(
                    "error.html", status=403, message=_("Your role may not open this page.")
                ), 403
            return view(*args, **kwargs)

        wrapper.__roles__ = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public_page(view: F) -> F:
    view.__roles__ = None  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None) -> str | None:
    """A redirect target only when it stays on this site (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


# --- the navigation -----------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    roles: frozenset[Role]
    # A count shown beside the label (e.g. unread messages): called with the signed-in actor.
    badge: Callable[[Actor], int] | None = None


NAV: list[NavItem] = []


def add_nav(
    endpoint: str,
    label: Any,
    roles: set[Role] | frozenset[Role] | None = None,
    badge: Callable[[Actor], int] | None = None,
) -> None:
    NAV.append(NavItem(endpoint, label, frozenset(roles) if roles else frozenset(Role), badge))


def nav_badges(items: list[NavItem], user: User | None) -> dict[str, int]:
    """The counts of the menu entries that have one (only those above zero)."""
    if user is None:
        return {}
    counts = {item.endpoint: item.badge(Actor.of(user)) for item in items if item.badge}
    return {endpoint: count for endpoint, count in counts.items() if count}


def nav_for(user: User | None) -> list[NavItem]:
    """The menu of `user`, in one order for every role: the entries every role has (Home)
    first, then the role's own pages in the order their modules added them."""
    if user is None:
        return []
    mine = [item for item in NAV if user.role in item.roles]
    return sorted(mine, key=lambda item: item.roles != frozenset(Role))


# --- errors in words ----------------------------------------------------------------------


def _error_words() -> dict[str, str]:
    return {
        "booking_conflict": _(
            "Someone else has just booked this machine at that time. Pick another slot."
        ),
        "outside_opening_hours": _("The house is not open at that time."),
        "holiday": _("That day is a public holiday; the house is closed."),
        "house_closed": _("The house is closed on that day."),
        "machine_downtime": _("The machine is out of service at that time."),
        "machine_unavailable": _("The machine cannot be booked at the moment."),
        "quota_exceeded": _("This would go beyond your weekly hours for this kind of machine."),
        "too_far_ahead": _("That is too far ahead; the house does not take bookings that early."),
        "in_the_past": _("That time has already passed."),
        "not_aligned": _("Bookings start and end on the house's slot times."),
        "invalid_transition": _("This booking can no longer be changed."),
        "not_found": _("We could not find that; it may have been removed."),
        "forbidden": _("You may not do this."),
    }


def error_words(err: DomainError) -> str:
    """A service error as a sentence in the user's language (the service's own words for
    codes this table does not know yet)."""
    words = _error_words().get(err.code)
    lang = str(get_locale())
    message = i18n.translate(err.message, lang)
    if words is None and err.errors:
        errors = i18n.translate(err.errors, lang)
        details = "; ".join(
            f"{', '.join(str(m) for m in messages)}"
            if isinstance(messages, list)
            else str(messages)
            for messages in errors.values()
        )
        return f"{message} {details}".strip()
    return words or message


def flash_error(err: DomainError) -> None:
    flash(error_words(err), "error")


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError):  # type: ignore[no-untyped-def]
    status = err.status if 400 <= err.status < 600 else 400
    return render_template("error.html", status=status, message=error_words(err)), status


@bp.errorhandler(CSRFError)
def _csrf_error(err: CSRFError):  # type: ignore[no-untyped-def]
    return render_template(
        "error.html",
        status=400,
        message=_("This form has expired. Go back, reload the page and try again."),
    ), 400


@bp.before_request
def _protect() -> None:
    if request.method == "POST":
        csrf.protect()


@bp.before_request
def _refuse_unstorable_text():  # type: ignore[no-untyped-def]
    """A NUL byte in a form or query value can never be stored (PostgreSQL refuses it): the
    page names the field before any view reads it. (Forms cannot carry lone surrogates: what
    is not UTF-8 arrives as U+FFFD.)"""
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if text_problem(name) is not None or text_problem(value) is not None:
                field = name.replace("\x00", "")[:60]
                return render_template(
                    "error.html",
                    status=400,
                    message=_(
                        "The field “%(field)s” holds a character that cannot be stored (a NUL "
                        "byte). Go back, remove it and try again.",
                        field=field,
                    ),
                ), 400
    return None


# --- formatting ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _rupiah(amount: int) -> str:
    # The same words in every language, so a page of a thousand prices (most of them alike)
    # asks babel once per amount.
    return messages.rupiah(amount)


def rupiah(amount: int | None) -> str:
    """Rupiah as Indonesians write them, whatever the page language: Rp1.500.000."""
    return "" if amount is None else _rupiah(int(amount))


def _zone(house: ProductionHouse | str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(house) if isinstance(house, str) else calendar.house_zone(house)


def _tz_name(house: ProductionHouse | str) -> str:
    return zones.abbreviation(house if isinstance(house, str) else house.timezone)


@functools.lru_cache(maxsize=512)
def _day_words(day: dt.date, locale: str) -> str:
    """'Sen 23 Nov 2026': the date part of `when`, the same for every moment of the day, so
    babel words each day once and a page of a thousand bookings over a week formats 7 dates."""
    return format_date(day, "EEE d MMM yyyy", locale=locale)


class HouseTime:
    """The `when` and `hm` filters for one house on one page, with the house's zone, its
    abbreviation and the page's language looked up once: a week's timeline writes thousands
    of times."""

    def __init__(self, house: ProductionHouse | str) -> None:
        self.zone = _zone(house)
        self.zone_name = _tz_name(house)
        self.locale = str(get_locale())

    def when(self, value: dt.datetime | None) -> str:
        """'Sen 23 Nov 2026 10:00 WIB': babel's 'EEE d MMM yyyy HH:mm' in the page's language
        (the hours and minutes are digits in both) and the zone's abbreviation."""
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        return f"{_day_words(local.date(), self.locale)} {local:%H:%M} {self.zone_name}"

    def hm(self, value: dt.datetime | None) -> str:
        """'10:00' in the house's time."""
        return "" if value is None else value.astimezone(self.zone).strftime("%H:%M")


def when(value: dt.datetime | None, house: ProductionHouse | str) -> str:
    """A moment in the house's time with its zone: 'Sen 23 Nov 2026 10:00 WIB'."""
    return "" if value is None else HouseTime(house).when(value)


def hm(value: dt.datetime | None, house: ProductionHouse | str) -> str:
    """'10:00' in the house's time."""
    return "" if value is None else HouseTime(house).hm(value)


def said(value: Any) -> Any:
    """A text the domain gives (a holiday's name, a stored reason) in the page's language."""
    return None if value is None else i18n.translate(value, str(get_locale()))


def day(value: dt.date | dt.datetime | None, house: ProductionHouse | str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and house is not None:
        value = value.astimezone(_zone(house)).date()
    return format_date(value, "full", locale=str(get_locale()))


def zone_name(house: ProductionHouse | str) -> str:
    return _tz_name(house)


def holiday(value: dt.date | None) -> str:
    """The name of the public holiday on `value` in the page's language, or ""."""
    if value is None:
        return ""
    return said(calendar.holiday_name(value)) or ""


# --- wiring -------------------------------------------------------------------------------


def _select_locale() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    user = current_user() if request else None
    if user is not None and user.language in LANGUAGES:
        return user.language
    return DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    """Register the pages, CSRF protection, Babel, the filters and the template globals."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    # CSRF is checked on the pages' POSTs only (see _protect); the API uses bearer tokens.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", dt.timedelta(hours=12))
    Babel(app, locale_selector=_select_locale)
    csrf.init_app(app)
    app.jinja_env.filters.update(
        rupiah=rupiah,
        when=when,
        hm=hm,
        day=day,
        zone_name=zone_name,
        said=said,
        holiday=holiday,
        **words.FILTERS,
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        if not request or request.blueprint != "web":
            return {}
        user = current_user()
        nav = nav_for(user)
        return {
            "current_user": user,
            "nav": nav,
            "nav_badges": nav_badges(nav, user),
            "languages": LANGUAGES,
            "lang": str(get_locale()),
        }

    app.register_blueprint(bp)


# The pages themselves register on `bp` when imported.
from api.web import admin, aggregator, auth, lender, manager, member, member_account  # noqa: E402,F401
