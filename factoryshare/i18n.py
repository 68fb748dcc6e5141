"""Texts people read, in their language: one gettext mechanism for the domain and the API.

The domain never translates while it works; it *marks* what it says and the edge that shows
it (the API's error handler and schemas, the pages, the statement, the calendar feed, the
notifications) translates for its reader:

- `N_("The house is closed on %(day)s.", day=...)` returns a `Message`: a `str` holding the
  English text (the msgid with its parameters filled in, so logs, the CLI and any code that
  just uses it as a string keep working) that also remembers its msgid and parameters.
  `message.translate("id")` says it in Indonesian. Parameters that are themselves a
  `Message` or `Localized` are translated with it. `pybabel extract` finds every `N_(...)`
  call (`make translations`); the catalogues are api/translations/<lang>/LC_MESSAGES/messages.po
  (Indonesian written by hand; English is the msgid itself).
- `Localized({"en": ..., "id": ...})` is a text that comes with its own translations (the
  `holidays` package's names of public holidays). It reads as its English text.
- `translate(value, language)` says any value in `language`: a `Message` or `Localized`
  directly; a plain string by its msgid in the catalogue (marshmallow's fixed messages, a
  system text read back from the database) or by a `recognise`d template; lists and dicts
  item by item. Other text (what a manager typed) is returned unchanged.

Texts kept in the database (a booking's cancel reason, a note the system writes on a
booking) are stored as their English text, the rendering of a `Message`, and never in the
reader's language: whoever reads them later gets them through `translate`, which knows them
back by their msgid, or, with parameters, by the template registered with
`recognise(N_("re-planned by schedule run %(run)s"))`. So one stored text reads in
Indonesian for an Indonesian member and in English for an English manager.

Choosing the language is the edge's business: the API uses the signed-in user's `language`,
else `Accept-Language`, else Indonesian (DEFAULT_LANGUAGE).
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as _gettext
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.support import Translations

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
SOURCE_LANGUAGE = "en"  # the msgids are English

# The catalogues are shipped with the api package (package data), next to this one; only the
# files are read here, nothing is imported from api.
CATALOGUES = Path(__file__).resolve().parent.parent / "api" / "translations"

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdirf]|%%")


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=8)
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue of `language` (English: none, the msgids are English)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return _gettext.NullTranslations()
    return Translations.load(str(CATALOGUES), [language], domain="messages")


def gettext(msgid: str, language: str) -> str:
    return translations(language).gettext(msgid)


def _fill(text: str, params: Mapping[str, Any], language: str | None) -> str:
    """`text % params` (params said in `language` first); raises on a broken template."""
    if not params:
        return text
    values = {
        key: (translate(value, language) if language else value) for key, value in params.items()
    }
    return text % values


class Message(str):
    """A text to show a person: reads as its English text, translates with `translate`."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: Mapping[str, Any] | None = None) -> Message:
        params = dict(params or {})
        try:
            text = _fill(msgid, params, None)
        except (KeyError, ValueError, TypeError):
            text = msgid
        obj = super().__new__(cls, text)
        obj.msgid = msgid
        obj.params = params
        return obj

    # Not str.translate(table): a text says itself in `language`.
    def translate(self, language: str) -> str:  # type: ignore[override]
        language = language_or_default(language)
        try:
            return _fill(gettext(self.msgid, language), self.params, language)
        except (KeyError, ValueError, TypeError):
            # A translation whose placeholders do not match its msgid: say it in English.
            return _fill(self.msgid, self.params, language)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.msgid, self.params))

    def __copy__(self) -> Message:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Message:
        return self


def N_(msgid: str, **params: Any) -> Message:
    """Mark `msgid` for translation, with its %(name)s parameters."""
    return Message(msgid, params)


class Localized(str):
    """A text that brings its own translations (e.g. a holiday's name from `holidays`)."""

    texts: dict[str, str]

    def __new__(cls, texts: Mapping[str, str]) -> Localized:
        english = texts.get(SOURCE_LANGUAGE) or next(iter(texts.values()), "")
        obj = super().__new__(cls, english)
        obj.texts = dict(texts)
        return obj

    # Not str.translate(table): a text says itself in `language`.
    def translate(self, language: str) -> str:  # type: ignore[override]
        return self.texts.get(language_or_default(language), str.__str__(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Localized, (self.texts,))


_LOCALES = {"id": "id_ID", "en": "en_GB"}


def join(parts: list[str], separator: str = ", ") -> Localized:
    """Several texts as one, each said in the reader's language."""
    return Localized(
        {lang: separator.join(str(translate(part, lang)) for part in parts) for lang in LANGUAGES}
    )


def either(parts: list[str]) -> Localized:
    """Alternatives inside a sentence: `PIRT, Halal or SPP-IRT` / `PIRT, Halal atau SPP-IRT`."""
    texts = {}
    for lang in LANGUAGES:
        said = [str(translate(part, lang)) for part in parts]
        texts[lang] = (
            f"{', '.join(said[:-1])} {gettext('or', lang)} {said[-1]}"
            if len(said) > 1
            else "".join(said)
        )
    return Localized(texts)


def day(value: dt.date) -> Localized:
    """A date inside a sentence: `3 Mar 2026` / `3 Mar 2026` (Indonesian month names)."""
    return Localized(
        {lang: format_date(value, "d MMM yyyy", locale=locale) for lang, locale in _LOCALES.items()}
    )


def file_size(size: int) -> Localized:
    """A file size in bytes inside a sentence: `4,5 MB` / `4.5 MB` from a megabyte on, whole
    kilobytes below it (at least 1 kB), in the reader's number format."""
    from babel.units import format_unit

    if size >= 1_000_000:
        value, unit, pattern = size / 1_000_000, "digital-megabyte", "#,##0.0"
    else:
        value, unit, pattern = max(1, round(size / 1_000)), "digital-kilobyte", "#,##0"
    return Localized(
        {
            lang: format_unit(value, unit, length="short", format=pattern, locale=locale)
            for lang, locale in _LOCALES.items()
        }
    )


def moment(value: dt.datetime, timezone: str) -> Localized:
    """A moment in a house's zone inside a sentence: `Sel 3 Mar 2026 10:00 WITA`."""
    from factoryshare.zones import abbreviation as zone_abbreviation

    local = value.astimezone(_zone(timezone))
    label = zone_abbreviation(timezone, local)
    return Localized(
        {
            lang: f"{format_datetime(local, 'EEE d MMM yyyy HH:mm', locale=locale)} {label}"
            for lang, locale in _LOCALES.items()
        }
    )


def _zone(timezone: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(timezone)


# --- texts known back from their English rendering ---------------------------------------

_TEMPLATES: dict[str, re.Pattern[str]] = {}


def _pattern(msgid: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[last : match.start()]))
        parts.append("%" if match.group(0) == "%%" else f"(?P<{match.group(1)}>.+?)")
        last = match.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def recognise(message: str) -> str:
    """Register a template with parameters so that its English rendering, read back as a
    plain string (from the database, from marshmallow), translates. Returns its msgid."""
    msgid = message.msgid if isinstance(message, Message) else message
    if _PLACEHOLDER.search(msgid):
        _TEMPLATES[msgid] = _pattern(msgid)
        # Longest literal first: the most specific template wins.
        ordered = sorted(_TEMPLATES.items(), key=lambda kv: -len(_PLACEHOLDER.sub("", kv[0])))
        _TEMPLATES.clear()
        _TEMPLATES.update(ordered)
    return msgid


def recognised(text: str) -> Message | None:
    """The message whose English rendering `text` is, if it is a known template's."""
    for msgid, pattern in _TEMPLATES.items():
        match = pattern.match(text)
        if match is not None:
            return Message(msgid, {k: _known_back(v) for k, v in match.groupdict().items()})
    return None


def _known_back(value: str) -> str:
    """A parameter read back from a stored text: translatable itself if it is a msgid."""
    return Message(value) if value and translations("id").gettext(value) != value else value


def translate_text(text: str, language: str) -> str:
    """A plain string in `language`: a msgid of the catalogue, a recognised template's
    rendering, or else unchanged (what a person typed)."""
    language = language_or_default(language)
    if isinstance(text, (Message, Localized)):
        return text.translate(language)
    if not text or language == SOURCE_LANGUAGE:
        return str(text)
    translated = gettext(text, language)
    if translated != text:
        return translated
    found = recognised(text)
    return found.translate(language) if found is not None else text


def translate(value: Any, language: str) -> Any:
    """`value` with every text in it said in `language` (see the module's docstring)."""
    if isinstance(value, (Message, Localized)):
        return value.translate(language_or_default(language))
    if isinstance(value, str):
        return translate_text(value, language)
    if isinstance(value, dict):
        return {key: translate(item, language) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [translate(item, language) for item in value]
    return value


def translate_marked(value: Any, language: str) -> Any:
    """Like `translate`, but plain strings stay as they are (codes, names, dates): only
    what was marked with `N_` or is `Localized` is translated."""
    if isinstance(value, (Message, Localized)):
        return value.translate(language_or_default(language))
    if isinstance(value, dict):
        return {key: translate_marked(item, language) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, (str, dict, list)) for v in value):
        return [translate_marked(item, language) for item in value]
    return value


def translator(language: str) -> Callable[[Any], Any]:
    """`translate` bound to one language, for a renderer that says many texts."""
    return functools.partial(translate, language=language_or_default(language))


# --- words the domain uses inside its messages --------------------------------------------

# What people call each kind of object (`NotFound("%(what)s %(id)s was not found.")`).
LABELS: dict[str, Message] = {
    "Aggregator": N_("Aggregator"),
    "ApiToken": N_("Token"),
    "AuditEvent": N_("Audit event"),
    "Booking": N_("Booking"),
    "BookingQuota": N_("Booking quota"),
    "BookingSeries": N_("Booking series"),
    "CalendarFeed": N_("Calendar feed"),
    "Capability": N_("Capability"),
    "Cluster": N_("Cluster"),
    "ClusterInvitation": N_("Cluster invitation"),
    "Downtime": N_("Downtime"),
    "HouseClosure": N_("House closure"),
    "IdempotencyKey": N_("Idempotency key"),
    "Installment": N_("Installment"),
    "JobRun": N_("Job run"),
    "KurScheme": N_("KUR scheme"),
    "Lender": N_("Lender"),
    "LoanApplication": N_("Loan application"),
    "LoanDecision": N_("Loan decision"),
    "LoanPlanLink": N_("Loan plan link"),
    "LoanShare": N_("Loan share"),
    "LoanTranche": N_("Loan tranche"),
    "Machine": N_("Machine"),
    "Member": N_("Member"),
    "Notification": N_("Notification"),
    "OfftakeAgreement": N_("Offtake agreement"),
    "OfftakeDelivery": N_("Offtake delivery"),
    "OfftakePurchase": N_("Offtake purchase"),
    "Permit": N_("Permit"),
    "PermitDocumentContent": N_("Permit document"),
    "PermitFlag": N_("Permit flag"),
    "PermitOverride": N_("Permit override"),
    "PermitRequirement": N_("Permit requirement"),
    "PermitType": N_("Permit type"),
    "Product": N_("Product"),
    "ProductionHouse": N_("Production house"),
    "ProductionRequest": N_("Production request"),
    "Repayment": N_("Repayment"),
    "RequestOperation": N_("Request operation"),
    "RoutingStep": N_("Routing step"),
    "ScheduleAssignment": N_("Schedule assignment"),
    "ScheduleRun": N_("Schedule run"),
    "SignInFailure": N_("Sign-in failure"),
    "User": N_("User"),
    "WaitlistEntry": N_("Waitlist entry"),
}


def label(model: Any) -> str:
    """What people call objects of `model` (a class or an instance)."""
    cls = model if isinstance(model, type) else type(model)
    return str(LABELS.get(cls.__name__) or getattr(cls, "__label__", None) or cls.__name__)


# The states objects go through, as people say them inside a sentence.
STATUSES: dict[str, Message] = {
    "accepted": N_("accepted"),
    "active": N_("active"),
    "approved": N_("approved"),
    "cancelled": N_("cancelled"),
    "changes_requested": N_("sent back for changes"),
    "closed": N_("closed"),
    "completed": N_("completed"),
    "confirmed": N_("confirmed"),
    "declined": N_("declined"),
    "disbursed": N_("disbursed"),
    "disbursing": N_("disbursing"),
    "discarded": N_("discarded"),
    "done": N_("done"),
    "draft": N_("draft"),
    "due": N_("due"),
    "expired": N_("expired"),
    "failed": N_("failed"),
    "held": N_("held"),
    "inactive": N_("inactive"),
    "infeasible": N_("infeasible"),
    "invited": N_("invited"),
    "left": N_("left"),
    "lender_approved": N_("approved by the lender"),
    "lender_declined": N_("declined by the lender"),
    "maintenance": N_("in maintenance"),
    "needs_review": N_("needing review"),
    "no_show": N_("no-show"),
    "notified": N_("notified"),
    "open": N_("open"),
    "overdue": N_("overdue"),
    "paid": N_("paid"),
    "pending": N_("pending"),
    "planned": N_("planned"),
    "published": N_("published"),
    "queued": N_("queued"),
    "rejected": N_("rejected"),
    "released": N_("released"),
    "repaid": N_("repaid"),
    "repaying": N_("repaying"),
    "retired": N_("retired"),
    "revoked": N_("revoked"),
    "running": N_("running"),
    "scheduled": N_("scheduled"),
    "sent": N_("sent"),
    "sent_back": N_("sent back"),
    "skipped": N_("skipped"),
    "solved": N_("solved"),
    "stale": N_("stale"),
    "submitted": N_("submitted"),
    "succeeded": N_("succeeded"),
    "valid": N_("valid"),
    "verified": N_("verified"),
    "waiting": N_("waiting"),
    "withdrawn": N_("withdrawn"),
}


def status(value: Any) -> str:
    """A state (an enum or its value) as people say it; unknown ones as their code."""
    code = getattr(value, "value", value)
    return STATUSES.get(str(code), str(code))


# Texts with parameters the system writes into the database (cancel reasons, booking notes,
# review reasons), known back from their English by `translate`. A new one belongs here too.
STORED_TEMPLATES = [
    recognise(message)
    for message in (
        N_("machine downtime: %(reason)s"),
        N_("house closed: %(reason)s"),
        N_("planned by schedule run %(run)s"),
        N_("re-planned by schedule run %(run)s"),
        N_("Production request %(request)s, step %(step)s"),
        N_("The product's %(fields)s changed."),
    )
]
