"""The words and numbers every page shares, in the page's language (the filters registered in
api.web.init_app; see the list in api.web's docstring).

Nothing here decides anything: each function says a value the services gave in words.
"""

from __future__ import annotations

import enum
from typing import Any

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _

from factoryshare.models import Role
from factoryshare.models.booking_extras import SeriesStatus, WaitStatus
from factoryshare.models.bookings import BookingSource, BookingStatus
from factoryshare.models.financing import (
    DecisionKind,
    InstallmentStatus,
    LoanStatus,
    RepaymentSource,
)
from factoryshare.models.houses import DowntimeKind, MachineStatus
from factoryshare.models.jobs import JobStatus
from factoryshare.models.members import InvitationStatus
from factoryshare.models.notifications import NotificationStatus
from factoryshare.models.permits import PermitStatus, PermitVerification
from factoryshare.models.scheduling import RequestStatus, RunStatus


def _lang() -> str:
    return str(get_locale())


# --- numbers and durations ----------------------------------------------------------------


def number(value: float | None, digits: int | None = None) -> str:
    """A number as the page's language writes it: 1.234,5 in Indonesian, 1,234.5 in English.
    `digits` fixes the decimals (`|number(1)` → 2,0); without it up to three are shown."""
    if value is None:
        return ""
    if digits is None:
        return format_decimal(value, locale=_lang())
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(round(value, digits), format=pattern, locale=_lang())


def percent(value: float | None, digits: int = 0) -> str:
    """A share (0.875) as a percentage in the page's language: 87,5 % / 87.5%."""
    if value is None:
        return ""
    return _("%(n)s%%", n=number(value * 100, digits))


def duration(minutes: float | None) -> str:
    """Minutes as hours and minutes: '2 jam 15 menit' / '2 h 15 min', '2 jam', '45 menit';
    a negative length keeps its sign ('-1 jam 30 menit')."""
    if minutes is None:
        return ""
    total = round(minutes)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 60)
    if hours and rest:
        text = _("%(h)d h %(m)d min", h=hours, m=rest)
    elif hours:
        text = _("%(h)d h", h=hours)
    else:
        text = _("%(m)d min", m=rest)
    return sign + text


# --- statuses and roles -------------------------------------------------------------------


def _status_words() -> dict[type[enum.Enum], dict[str, str]]:
    return {
        BookingStatus: {
            "held": _("held"),
            "confirmed": _("confirmed"),
            "completed": _("completed"),
            "no_show": _("no-show"),
            "cancelled": _("cancelled"),
        },
        BookingSource: {"direct": _("booked directly"), "solver": _("from the plan")},
        SeriesStatus: {"active": _("active"), "cancelled": _("cancelled")},
        WaitStatus: {
            "waiting": _("waiting"),
            "notified": _("told, may book"),
            "cancelled": _("withdrawn"),
        },
        RequestStatus: {
            "open": _("open"),
            "scheduled": _("scheduled"),
            "cancelled": _("cancelled"),
            "done": _("done"),
        },
        RunStatus: {
            "queued": _("queued"),
            "running": _("running"),
            "succeeded": _("ready to review"),
            "failed": _("failed"),
            "published": _("published"),
            "discarded": _("discarded"),
            "stale": _("out of date"),
        },
        LoanStatus: {
            "draft": _("draft"),
            "submitted": _("waiting for a decision"),
            "changes_requested": _("sent back for changes"),
            "approved": _("approved"),
            "rejected": _("rejected"),
            "lender_approved": _("approved by the lender"),
            "lender_declined": _("declined by the lender"),
            "disbursing": _("being disbursed"),
            "repaying": _("repaying"),
            "closed": _("repaid"),
        },
        DecisionKind: {
            "submitted": _("submitted"),
            "endorsed": _("endorsed"),
            "changes_requested": _("changes requested"),
            "rejected": _("rejected"),
            "lender_approved": _("approved by the lender"),
            "lender_declined": _("declined by the lender"),
            "tranche": _("tranche disbursed"),
        },
        InstallmentStatus: {"due": _("due"), "paid": _("paid"), "overdue": _("overdue")},
        RepaymentSource: {
            "direct": _("paid directly"),
            "offtake_purchase": _("from an offtake purchase"),
        },
        MachineStatus: {
            "active": _("in service"),
            "maintenance": _("in maintenance"),
            "retired": _("retired"),
        },
        DowntimeKind: {"maintenance": _("maintenance"), "breakdown": _("breakdown")},
        JobStatus: {
            "running": _("running"),
            "succeeded": _("succeeded"),
            "failed": _("failed"),
            "skipped": _("skipped"),
        },
        InvitationStatus: {
            "invited": _("invited"),
            "accepted": _("accepted"),
            "declined": _("declined"),
            "withdrawn": _("withdrawn"),
            "left": _("left"),
        },
        NotificationStatus: {
            "pending": _("waiting to be sent"),
            "sent": _("sent"),
            "failed": _("not delivered"),
        },
        PermitStatus: {
            "pending": _("waiting for verification"),
            "active": _("valid"),
            "needs_review": _("needs review"),
        },
        PermitVerification: {
            "submitted": _("submitted"),
            "verified": _("verified"),
            "rejected": _("rejected"),
        },
        Role: {
            "admin": _("admin"),
            "manager": _("manager"),
            "member": _("member"),
            "aggregator": _("aggregator"),
            "lender": _("lender"),
        },
    }


def _common_words() -> dict[str, str]:
    """Words for a status given as a bare string (the first enum that knows it)."""
    words: dict[str, str] = {}
    for table in reversed(list(_status_words().values())):
        words.update(table)
    words["expired"] = _("expired")
    return words


def status_label(value: Any, kind: str | None = None) -> str:
    """A status in words: `booking.status|status_label`. A bare string is looked up in the
    enum named by `kind` (`'queued'|status_label('RunStatus')`), else in any that knows it;
    an unknown value is shown as it is."""
    if value is None:
        return ""
    tables = _status_words()
    if isinstance(value, enum.Enum):
        table = tables.get(type(value), {})
        return table.get(value.value, str(value.value).replace("_", " "))
    text = str(value)
    if kind:
        for cls, table in tables.items():
            if cls.__name__ == kind and text in table:
                return table[text]
    return _common_words().get(text, text.replace("_", " "))


def role_label(value: Role | str | None) -> str:
    """A role in words: 'manajer' / 'manager'."""
    if value is None:
        return ""
    key = value.value if isinstance(value, Role) else str(value)
    return _status_words()[Role].get(key, key)


# --- capabilities ------------------------------------------------------------------------


def capability_name(capability: Any) -> str:
    """A capability's name for the reader: its stored name (the house writes it in
    Indonesian) on Indonesian pages; on English pages its code in words ('vacuum_frying' →
    'Vacuum frying'), the codes being English."""
    if capability is None:
        return ""
    if _lang() == "id" or not getattr(capability, "code", None):
        return capability.name
    return capability.code.replace("_", " ").capitalize()


# --- audit actions ------------------------------------------------------------------------


def _thing_words() -> dict[str, str]:
    """What an audit entry is about, by the first part of its action or its table's name."""
    return {
        "user": _("user account"),
        "users": _("user account"),
        "aggregator": _("aggregator"),
        "aggregators": _("aggregator"),
        "booking": _("booking"),
        "bookings": _("booking"),
        "booking_quotas": _("booking quotas"),
        "booking_series": _("weekly booking series"),
        "calendar_feed": _("calendar feed"),
        "calendar_feeds": _("calendar feed"),
        "capability": _("capability"),
        "capabilities": _("capability"),
        "cluster": _("cluster"),
        "clusters": _("cluster"),
        "cluster_invitation": _("cluster invitation"),
        "cluster_invitations": _("cluster invitation"),
        "downtime": _("downtime"),
        "downtimes": _("downtime"),
        "house": _("production house"),
        "production_houses": _("production house"),
        "house_closure": _("closure"),
        "house_closures": _("closure"),
        "installment": _("installment"),
        "installments": _("installment"),
        "loan": _("loan"),
        "loan_application": _("loan application"),
        "loan_applications": _("loan application"),
        "loan_tranche": _("loan tranche"),
        "loan_tranches": _("loan tranche"),
        "loan_prepayments": _("prepayment"),
        "machine": _("machine"),
        "machines": _("machine"),
        "member": _("member"),
        "members": _("member"),
        "offtake_agreement": _("offtake agreement"),
        "offtake_agreements": _("offtake agreement"),
        "offtake_purchase": _("offtake purchase"),
        "offtake_purchases": _("offtake purchase"),
        "permit": _("permit"),
        "permits": _("permit"),
        "permit_override": _("permit exception"),
        "permit_overrides": _("permit exception"),
        "permit_requirement": _("permit requirement"),
        "permit_requirements": _("permit requirement"),
        "permit_type": _("permit type"),
        "permit_types": _("permit type"),
        "product": _("product"),
        "products": _("product"),
        "production_request": _("production request"),
        "production_requests": _("production request"),
        "schedule_run": _("schedule run"),
        "schedule_runs": _("schedule run"),
        "waitlist": _("waiting list"),
        "waitlist_entries": _("waiting list"),
        "lender": _("lender"),
        "lenders": _("lender"),
        "kur_schemes": _("KUR scheme"),
    }


def _done_words() -> dict[str, str]:
    """What was done, by the last part of an audit action (`<object>.<past-tense verb>`)."""
    return {
        "created": _("created"),
        "updated": _("changed"),
        "deleted": _("deleted"),
        "cancelled": _("cancelled"),
        "moved": _("moved"),
        "replaced": _("replaced"),
        "revoked": _("revoked"),
        "locked": _("locked"),
        "registered": _("registered"),
        "recorded": _("recorded"),
        "disbursed": _("disbursed"),
        "repaid": _("repaid"),
        "prepaid": _("repaid early"),
        "disbursement_started": _("disbursement started"),
        "repayment_started": _("repayment started"),
        "first_approved": _("approved once (a second approval is needed)"),
        "plan_set": _("plan attached"),
        "bookings_linked": _("bookings attached"),
        "published": _("published"),
        "discarded": _("discarded"),
        "queued": _("queued"),
        "outdated": _("out of date"),
        "joined": _("joined"),
        "left": _("left"),
        "document_attached": _("document attached"),
        "document_removed": _("document removed"),
        "review_requested": _("marked for review"),
        "review_cleared": _("review cleared"),
        "verification_rejected": _("verification rejected"),
        "verified": _("verified"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "submitted": _("submitted"),
        "changes_requested": _("sent back for changes"),
        "endorsed": _("endorsed"),
        "lender_approved": _("approved by the lender"),
        "lender_declined": _("declined by the lender"),
        "deactivated": _("deactivated"),
        "reactivated": _("reactivated"),
        "confirmed": _("confirmed"),
        "marked_no_show": _("marked as no-show"),
        "completed": _("completed"),
        "expired": _("expired"),
        "accepted": _("accepted"),
        "declined": _("declined"),
        "withdrawn": _("withdrawn"),
        "member_left": _("left by a member"),
        "member_removed": _("member taken out"),
        "invitation_withdrawn": _("invitation withdrawn"),
    }


def object_label(object_type: str | None) -> str:
    """An audit entry's object kind in words ('production_requests' → 'production request')."""
    if not object_type:
        return ""
    return _thing_words().get(object_type, object_type.replace("_", " "))


def audit_words(action: str | None, object_type: str | None = None) -> str:
    """An audit action in words: 'booking.cancelled' → 'Booking cancelled' / 'Pemesanan
    dibatalkan'; a bare verb ('create') takes its thing from `object_type`. Parts the tables
    do not know are shown with spaces for underscores."""
    if not action:
        return ""
    thing_key, _dot, done_key = action.rpartition(".")
    if not thing_key:  # events recorded before actions were all `<object>.<verb>`
        thing_key = object_type or ""
    thing = _thing_words().get(thing_key, thing_key.replace("_", " "))
    done = _done_words().get(done_key, done_key.replace("_", " "))
    text = _("%(thing)s %(done)s", thing=thing, done=done) if thing else done
    return text[:1].upper() + text[1:]


FILTERS = {
    "number": number,
    "percent": percent,
    "duration": duration,
    "status_label": status_label,
    "role_label": role_label,
    "capability_name": capability_name,
    "audit_words": audit_words,
    "object_label": object_label,
}
