"""Message templates in Bahasa Indonesia and English, and how money and times read in them.

`render(template, language, context)` returns `(subject, body)`. Every template lists the
context keys it needs; a missing one is a `ValueError`, an unknown template a `LookupError`.

The texts are Jinja templates, factoryshare/templates/notifications/<template>.txt, each
setting `subject` and `body` (paragraphs separated by a blank line; `_parts.txt` holds the
greeting, the closing and the phrases several share). Their words are English msgids said
through `_()` with the project's gettext catalogue (factoryshare.i18n, the Indonesian in
api/translations/id/LC_MESSAGES/messages.po; `make translations` extracts them); money,
dates and times go through the filters `rupiah`, `date`, `when` and `span` (the Formatter
below, in the house's zone); `house_zone` is the house's zone as people say it (WITA).

Context values the templates read (all JSON-safe after `to_json`):
- `timezone`: the house's IANA zone (default `Asia/Jakarta`); every time is shown in it, with
  WIB, WITA or WIT;
- `machine`, `house`, `product`, `cluster`, `loan`, `permit`, `number`, `reason`, `note`:
  names and labels as text;
- `start`, `end`, `expires_at`: aware datetimes (or ISO 8601 strings with offset);
- `due_on`, `expires_on`: dates (or ISO 8601 strings);
- `price`, `amount`: integer rupiah;
- `change`: `closure` (with `closure_start`, `closure_end` dates), `opening_hours`,
  `slot_minutes`, `timezone` or `calendar` (several at once) (booking_calendar_change);
- `action`: `cancelled` or `kept` (booking_downtime); `decision`: `approved`, `rejected` or
  `changes_requested` (loan_decision);
- `alternatives`: up to three free slots, each `{"start", "end"}` and optionally `"machine"`;
- `count`, `days_left`, `days_overdue`: whole numbers.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from factoryshare.zones import abbreviation as zone_abbreviation

DEFAULT_TIMEZONE = "Asia/Jakarta"
LANGUAGES = ("id", "en")
_LOCALES = {"id": "id_ID", "en": "en_GB"}


def rupiah(amount: int) -> str:
    """Integer rupiah the Indonesian way: `Rp1.500.000` (no decimals, `.` for thousands)."""
    return format_currency(
        int(amount), "IDR", locale="id_ID", format="¤#,##0", currency_digits=False
    )


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got {value!r}")
    return value


def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise ValueError(f"expected a date, got {value!r}")
    return value


class Formatter:
    """Money, dates and times in one language and one house's time zone."""

    def __init__(self, language: str, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.language = language
        self.locale = _LOCALES[language]
        self.timezone = timezone
        self.zone = _zone(timezone)

    def money(self, amount: Any) -> str:
        return rupiah(amount)

    def local(self, value: Any) -> dt.datetime:
        return _as_datetime(value).astimezone(self.zone)

    def _day(self, local: dt.datetime) -> str:
        pattern = "EEEE, d MMMM yyyy" if self.language == "id" else "EEEE d MMMM yyyy"
        return format_datetime(local, pattern, locale=self.locale)

    def when(self, value: Any) -> str:
        """`Selasa, 24 November 2026 10:00 WITA` / `Tuesday 24 November 2026 10:00 WITA`."""
        local = self.local(value)
        return f"{self._day(local)} {local:%H:%M} {zone_abbreviation(self.timezone, local)}"

    def span(self, start: Any, end: Any) -> str:
        """A time range; one date when both ends fall on the same local day."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date():
            return f"{self._day(a)} {a:%H:%M}–{b:%H:%M} {zone_abbreviation(self.timezone, b)}"
        return f"{self.when(a)} – {self.when(b)}"

    def date(self, value: Any) -> str:
        return format_date(_as_date(value), "d MMMM yyyy", locale=self.locale)


def to_json(value: Any) -> Any:
    """Context values as JSON-safe data: times and dates as ISO 8601, enums as their value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


@dataclass(frozen=True)
class Template:
    """A notification: the context keys it needs and the values some keys must take. Its
    subject and body are factoryshare/templates/notifications/<name>.txt."""

    needs: tuple[str, ...]
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()


# -- the templates ----------------------------------------------------------------------------

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notifications"


def _given(value: Any) -> bool:
    """`{% if price is given %}`: present in the context and not None (0 is given)."""
    return value is not None and not isinstance(value, jinja2.Undefined)


def _formatter(context: Any) -> Formatter:
    formatter: Formatter = context["formatter"]
    return formatter


@jinja2.pass_context
def _span_filter(context: Any, start: Any, end: Any) -> str:
    return _formatter(context).span(start, end)


@jinja2.pass_context
def _when_filter(context: Any, value: Any) -> str:
    return _formatter(context).when(value)


@jinja2.pass_context
def _date_filter(context: Any, value: Any) -> str:
    return _formatter(context).date(value)


@functools.lru_cache(maxsize=len(LANGUAGES))
def environment(language: str) -> jinja2.Environment:
    """The templates' Jinja environment in `language`: `_()` says a text through the
    project's gettext catalogue (factoryshare.i18n); `span`, `when`, `date` and `rupiah`
    format as the Formatter does, in the house's zone."""
    from factoryshare import i18n

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.Undefined,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(span=_span_filter, when=_when_filter, date=_date_filter, rupiah=rupiah)
    env.tests["given"] = _given
    return env


_PARAGRAPHS = re.compile(r"\n[ \t]*\n[ \t\n]*")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]


def _from_template(
    name: str, lang: str, context: dict[str, Any], formatter: Formatter
) -> tuple[str, str]:
    env = environment(lang)
    # Set last, so that a context key of the same name (a caller's "zone") never hides them.
    values = {
        **context,
        "formatter": formatter,
        "house_zone": zone_abbreviation(formatter.timezone),
    }
    # A template exports what it `{% set %}`s (subject, body) and its macros (greeting, ...).
    module: Any = env.get_template(f"{name}.txt").make_module(values)
    parts: Any = env.get_template("_parts.txt").make_module(values)
    body = (
        "\n\n".join(
            [
                str(parts.greeting()).strip(),
                *_paragraphs(str(module.body)),
                str(parts.closing()).strip(),
            ]
        )
        + "\n"
    )
    return str(module.subject).strip(), body


_CALENDAR_CHANGES = ("closure", "opening_hours", "slot_minutes", "timezone", "calendar")
_DECISIONS = ("approved", "rejected", "changes_requested")

_SLOT = ("machine", "start", "end")

TEMPLATES: dict[str, Template] = {
    # bookings
    "booking_confirmed": Template(_SLOT),
    "booking_held": Template(_SLOT),
    "booking_cancelled": Template(_SLOT),
    "booking_rejected": Template(_SLOT),
    "booking_moved": Template((*_SLOT, "old_start", "old_end")),
    "hold_expired": Template(_SLOT),
    "booking_downtime": Template((*_SLOT, "action"), (("action", ("cancelled", "kept")),)),
    "booking_calendar_change": Template((*_SLOT, "change"), (("change", _CALENDAR_CHANGES),)),
    "waitlist_slot_free": Template(_SLOT),
    "unfunded_hold_released": Template(_SLOT),
    # schedules
    "schedule_published": Template(("house",)),
    "request_placed": Template(("house", "product")),
    "request_left_out": Template(("house", "product", "why")),
    # financing
    "loan_submitted": Template(("cluster",)),
    "tranche_released": Template(("cluster", "amount")),
    "loan_decision": Template(("cluster", "decision"), (("decision", _DECISIONS),)),
    "installment_due": Template(("loan", "due_on", "amount")),
    "installment_overdue": Template(("loan", "due_on", "amount")),
    # permits
    "permit_expiring": Template(("product", "permit", "expires_on")),
    "permit_booking_at_risk": Template(("product", "permit", *_SLOT)),
    "permit_loan_at_risk": Template(("cluster", "loan", "product", "permit")),
    "permit_needs_review": Template(("product",)),
    "permit_rejected": Template(("product", "permit")),
}


def template_for(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise LookupError(f"unknown notification template {name!r}") from None


def render(name: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of template `name` in `language` ("id" or "en")."""
    template = template_for(name)
    missing = [k for k in template.needs if context.get(k) is None]
    if missing:
        raise ValueError(f"template {name!r} needs context keys: {', '.join(missing)}")
    lang = language if language in LANGUAGES else "id"
    # A reason or note the system wrote (stored in English, factoryshare.i18n) reads in `lang`.
    from factoryshare import i18n

    context = {
        **context,
        **{
            key: i18n.translate(context[key], lang)
            for key in ("reason", "note")
            if isinstance(context.get(key), str)
        },
    }
    for key, allowed in template.choices:
        if context[key] not in allowed:
            raise ValueError(
                f"{name}: {key} must be one of {', '.join(allowed)}, got {context[key]!r}"
            )
    formatter = Formatter(lang, str(context.get("timezone") or DEFAULT_TIMEZONE))
    return _from_template(name, lang, context, formatter)
