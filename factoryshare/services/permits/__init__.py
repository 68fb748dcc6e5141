"""Izin edar: permits of members' businesses and products, the rules that need them, the gate.

Rules kept here:
- Number formats per type (shared/DOMAIN.md section 3): NIB 13 digits; P-IRT 15 digits whose
  last two digits are the expiry year (cross-checked with `expires_on`); BPOM `MD`/`ML` + 12 to
  16 digits; halal (BPJPH) `ID` + 17 digits (or a legacy 14-digit MUI number); trademark
  `IDM` + 9 digits (registration) or `DID`/`JID` + 10 digits (application); SNI free text.
- `expires_on` is the last day a permit is valid, in the house's time zone: it lapses at
  00:00 house time the day after.
- The derived state: `pending` (applied for), `needs_review` (halal after a routing or
  family change), `expired` (after `expires_on`), `expiring` (at most the type's renewal
  window days left), else `valid`.
- A product needs, per requirement group (`one_of`), one permit of a type in the group that
  is active and valid over the whole booked time. A business-level type (NIB) is satisfied by
  the member's own NIB on record when no NIB permit is stored.
- A manager's override covering the booked time lets the gate pass; it is audited.
- Verification is separate from the derived state. A permit a member records (or changes in
  its number, dates, issue or document) is `submitted`; one recorded or changed by a manager
  of the member's house or an admin is `verified` in their name. A manager or admin verifies
  a submitted permit (`verify_permit`, optional note) or rejects it (`reject_permit`, reason
  required; event `permit_verification_rejected`). Only a verified permit counts at the gate,
  in the overview and for the watch; in a house with `trust_member_permits` a submitted one
  counts too; a rejected one never does. When an unverified entry is what is missing, the
  gate answers 409 `permit_unverified` naming the permit.
- `needs_review` on a halal certificate is cleared only by a manager of the member's house or
  an admin, with a note (audited `permit.review_cleared`); a member gets 403.
- A permit's document (PDF, PNG or JPEG by its first bytes, at most 5 MB) is stored in the
  database with the permit; a member's documents together stay within a cap (413).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Select, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from factoryshare import audit, events, i18n, locking, validation
from factoryshare.access import Actor, get_scoped, register_scope, scope_filter, scoped
from factoryshare.db import utcnow
from factoryshare.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from factoryshare.i18n import N_
from factoryshare.models import Cluster, Member, Product, ProductionHouse, Role, User
from factoryshare.models.accounts import house_managers
from factoryshare.models.permits import (
    Expiry,
    Permit,
    PermitDocumentContent,
    PermitFlag,
    PermitLevel,
    PermitOverride,
    PermitRequirement,
    PermitStatus,
    PermitType,
    PermitVerification,
    PermitVerificationRecord,
)
from factoryshare.services import calendar

REMINDER_DAYS = (90, 30, 7)
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The default of PERMIT_DOCUMENTS_MAX_BYTES_PER_MEMBER (factoryshare.config).
MAX_DOCUMENT_BYTES_PER_MEMBER = 50 * 1024 * 1024
DOCUMENT_KINDS = {  # magic bytes -> (mime type, file extension)
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}
# The watch acts from this house-local hour on (the scheduler runs it hourly).
WATCH_LOCAL_HOUR = 7
STATES = ("valid", "expiring", "expired", "pending", "needs_review")
VERIFICATIONS = tuple(v.value for v in PermitVerification)


def _member_ids_in_scope(actor: Actor) -> Any:
    return select(Member.id).where(scope_filter(actor, Member))


register_scope(Permit, lambda actor: Permit.member_id.in_(_member_ids_in_scope(actor)))
register_scope(PermitOverride,
               lambda actor: PermitOverride.product_id.in_(
                   select(Product.id).where(Product.member_id.in_(_member_ids_in_scope(actor)))))


class DocumentStorageFull(DomainError):
    """A member's permit documents would exceed the storage cap (413, cap and use in details)."""

    code = "document_storage_full"
    status = 413


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


# -- number formats ---------------------------------------------------------------------------

_SEP = re.compile(r"[\s.\-/]")


def validate_number(code: str, number: str, expires_on: dt.date | None = None) -> str:
    """The normalised permit number for a type code, or ValidationFailed naming the field."""
    raw = (number or "").strip()
    if code == "nib":
        return validation.nib(raw, field="number")
    if code == "pirt":
        digits = _SEP.sub("", re.sub(r"^(no\.?\s*)?(sppirt|spp-irt|p-?irt)\s*(no\.?)?\s*:?\s*", "",
                                     raw, flags=re.I))
        if not re.fullmatch(r"\d{15}", digits):
            raise _fail("number", N_("A P-IRT number is 15 digits, written 1234567890123-45."))
        if expires_on is not None and int(digits[13:]) != expires_on.year % 100:
            message = (N_("The last two digits of the P-IRT number (%(digits)s) are its expiry "
                          "year, but the expiry date is in %(year)s.",
                          digits=digits[13:], year=expires_on.year))
            raise ValidationFailed(message, errors={"number": [message], "expires_on": [message]})
        return f"{digits[:13]}-{digits[13:]}"
    if code in ("bpom_md", "bpom_ml"):
        prefix = "MD" if code == "bpom_md" else "ML"
        m = re.fullmatch(r"(?:BPOM\s*RI\s*)?(MD|ML)\s*([\d\s.]+)", raw, flags=re.I)
        digits = _SEP.sub("", m.group(2)) if m else ""
        if m is None or m.group(1).upper() != prefix or not re.fullmatch(r"\d{12,16}", digits):
            raise _fail("number", N_("A BPOM %(prefix)s number reads 'BPOM RI %(prefix)s' "
                                     "followed by 12 to 16 digits.",
                                     prefix=prefix))
        return f"BPOM RI {prefix} {digits}"
    if code == "halal":
        compact = _SEP.sub("", raw).upper()
        if re.fullmatch(r"ID\d{17}", compact) or re.fullmatch(r"(LPPOM)?\d{14}", compact):
            return compact
        raise _fail("number", N_("A BPJPH halal certificate number is ID followed by 17 digits "
                              "(an older MUI number has 14 digits)."))
    if code == "trademark":
        compact = _SEP.sub("", raw).upper()
        if re.fullmatch(r"IDM\d{9}", compact) or re.fullmatch(r"[DJ]ID\d{10}", compact):
            return compact
        raise _fail("number", N_("A trademark number is IDM + 9 digits (registered) or "
                              "DID/JID + 10 digits (application)."))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ./\-]{2,59}", raw):
        raise _fail("number", N_("Give the certificate number as printed (3 to 60 letters, digits, "
                              "dots, dashes or slashes)."))
    return raw


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_dates(ptype: PermitType, status: PermitStatus, issued_on: dt.date | None,
                 expires_on: dt.date | None) -> None:
    if ptype.expiry is Expiry.none and expires_on is not None:
        raise _fail("expires_on", N_("A %(ptype)s has no expiry date; leave it empty.",
                                     ptype=ptype.name))
    if ptype.expiry is Expiry.required and expires_on is None and status is not PermitStatus.pending:
        raise _fail("expires_on", N_("A %(ptype)s has an expiry date; give it.", ptype=ptype.name))
    if status is not PermitStatus.pending and issued_on is None:
        raise _fail("issued_on", N_("Give the date the permit was issued."))
    if issued_on is not None and expires_on is not None:
        if expires_on <= issued_on:
            raise _fail("expires_on", N_("The expiry date must come after the issue date."))
        if ptype.validity_years and expires_on > _add_years(issued_on, ptype.validity_years):
            raise _fail("expires_on", N_("A %(ptype)s is valid for at most %(validity_years)s "
                                         "years from its issue date.",
                                         ptype=ptype.name, validity_years=ptype.validity_years))


# -- derived state ----------------------------------------------------------------------------

# session.info key: members and their houses held for the session's life (the identity map
# holds objects weakly, so a list asking for the house of each of many permits read them again).
_KEPT = "permits_members_kept"


def _house(session: Session, member_id: int) -> ProductionHouse:
    member = session.get(Member, member_id)
    assert member is not None
    house = session.get(ProductionHouse, member.house_id)
    assert house is not None
    session.info.setdefault(_KEPT, {})[member_id] = (member, house)
    return house


def _keep_members(session: Session, member_ids: Iterable[int]) -> None:
    """Read the members of a list's permits and their houses, two statements for the whole list."""
    wanted = sorted(set(member_ids) - set(session.info.get(_KEPT, {})))
    if not wanted:
        return
    members = list(session.scalars(select(Member).where(Member.id.in_(wanted))))
    houses = {h.id: h for h in session.scalars(select(ProductionHouse).where(
        ProductionHouse.id.in_({m.house_id for m in members})))}
    kept = session.info.setdefault(_KEPT, {})
    for m in members:
        kept[m.id] = (m, houses[m.house_id])


def local_today(house: ProductionHouse, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(calendar.house_zone(house)).date()


def lapse_moment(house: ProductionHouse, expires_on: dt.date) -> dt.datetime:
    """The instant a permit stops being valid: 00:00 house time the day after `expires_on`."""
    local = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(0),
                                tzinfo=calendar.house_zone(house))
    return local.astimezone(dt.timezone.utc)


def state_on(permit: Permit, today: dt.date) -> str:
    if permit.status is PermitStatus.pending:
        return "pending"
    if permit.status is PermitStatus.needs_review:
        return "needs_review"
    if permit.expires_on is None:
        return "valid"
    if today > permit.expires_on:
        return "expired"
    if (permit.expires_on - today).days <= permit.permit_type.renewal_window_days:
        return "expiring"
    return "valid"


def state(session: Session, permit: Permit, now: dt.datetime | None = None) -> str:
    return state_on(permit, local_today(_house(session, permit.member_id), now))


def days_left(session: Session, permit: Permit, now: dt.datetime | None = None) -> int | None:
    if permit.expires_on is None:
        return None
    return (permit.expires_on - local_today(_house(session, permit.member_id), now)).days


def counts(house: ProductionHouse, permit: Permit) -> bool:
    """Whether the entry counts at the gate: verified, or submitted in a house that trusts its
    members' entries. A rejected permit never counts."""
    if permit.verification is PermitVerification.verified:
        return True
    return permit.verification is PermitVerification.submitted and bool(house.trust_member_permits)


def counts_for_gate(session: Session, permit: Permit) -> bool:
    return counts(_house(session, permit.member_id), permit)


# -- requirements and the gate ----------------------------------------------------------------

def requirements_for(session: Session, product: Product) -> dict[str, list[PermitType]]:
    """Requirement group -> the permit types any one of which satisfies it."""
    sector = product.sector.value if hasattr(product.sector, "value") else product.sector
    kind = product.kind.value if hasattr(product.kind, "value") else product.kind
    rows = session.scalars(select(PermitRequirement).where(
        or_(PermitRequirement.sector.is_(None), PermitRequirement.sector == sector),
        or_(PermitRequirement.kind.is_(None), PermitRequirement.kind == kind),
        or_(PermitRequirement.product_id.is_(None), PermitRequirement.product_id == product.id),
    ).order_by(PermitRequirement.id))
    return _requirement_groups(product, rows)


def _requirement_groups(product: Product, rows: Any) -> dict[str, list[PermitType]]:
    groups: dict[str, list[PermitType]] = defaultdict(list)
    for row in rows:
        if row.unless_family is not None and product.family == row.unless_family:
            continue
        if row.permit_type not in groups[row.one_of]:
            groups[row.one_of].append(row.permit_type)
    return dict(groups)


def requirements_of(session: Session, products: Iterable[Product]) -> dict[int, dict[str, list[PermitType]]]:
    """requirements_for of many products (a schedule run's), by product id, in one statement:
    the requirements of any sector and kind, and those of these products."""
    wanted = {p.id: p for p in products}
    if not wanted:
        return {}
    rows = list(session.scalars(select(PermitRequirement).where(
        or_(PermitRequirement.product_id.is_(None), PermitRequirement.product_id.in_(sorted(wanted))),
    ).options(joinedload(PermitRequirement.permit_type)).order_by(PermitRequirement.id)))

    def value(v: Any) -> Any:
        return v.value if hasattr(v, "value") else v

    result = {}
    for product_id, product in wanted.items():
        sector, kind = value(product.sector), value(product.kind)
        result[product_id] = _requirement_groups(product, [
            r for r in rows
            if (r.sector is None or value(r.sector) == sector) and (r.kind is None or value(r.kind) == kind)
            and (r.product_id is None or r.product_id == product_id)])
    return result


@dataclass
class Gap:
    """One requirement group not met over a period."""

    group: str
    types: list[str]
    # "missing" (none valid at the start), "lapses" (valid at start, not to the end), or
    # "unverified" (an entry would cover the time but is not verified: submitted or rejected)
    problem: str
    lapse_on: dt.date | None  # last valid day of the best permit, when there is one
    permit_id: int | None
    verification: str | None = None  # of the permit named, for "unverified"
    number: str | None = None

    def message(self, names: str) -> str:
        if self.problem == "unverified":
            which = (N_("permit %(number)s", number=self.number) if self.number
                     else N_("permit #%(id)s", id=self.permit_id))
            if self.verification == PermitVerification.rejected.value:
                return N_("%(names)s: %(which)s was rejected when the house checked it.",
                          names=names, which=which)
            return N_("%(names)s: %(which)s is waiting for the house to verify it.",
                      names=names, which=which)
        if self.problem == "lapses":
            return N_("%(names)s: valid only until %(day)s.", names=names,
                      day=self.lapse_on.isoformat())  # type: ignore[union-attr]
        if self.lapse_on is not None:
            return N_("%(names)s: expired on %(day)s.", names=names, day=self.lapse_on.isoformat())
        return N_("%(names)s: no valid permit.", names=names)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "types": self.types, "problem": self.problem,
                "lapse_on": self.lapse_on.isoformat() if self.lapse_on else None,
                "permit_id": self.permit_id, "verification": self.verification}


def _candidates(session: Session, product: Product, types: list[PermitType]) -> list[Permit]:
    type_ids = [t.id for t in types]
    return list(session.scalars(select(Permit).where(
        Permit.member_id == product.member_id, Permit.permit_type_id.in_(type_ids),
        or_(Permit.product_id == product.id,
            Permit.product_id.is_(None) & Permit.permit_type_id.in_(
                [t.id for t in types if t.level is PermitLevel.business])),
    ).order_by(Permit.id)))


def _valid_from(house: ProductionHouse, permit: Permit) -> dt.datetime | None:
    if permit.issued_on is None:
        return None
    return dt.datetime.combine(permit.issued_on, dt.time(0),
                               tzinfo=calendar.house_zone(house)).astimezone(dt.timezone.utc)


def _active_override(session: Session, product_id: int, start: dt.datetime,
                     end: dt.datetime) -> PermitOverride | None:
    return session.scalars(select(PermitOverride).where(
        PermitOverride.product_id == product_id, PermitOverride.revoked.is_(False),
        PermitOverride.valid_from <= start, PermitOverride.valid_until >= end,
    ).order_by(PermitOverride.id)).first()


def gaps(session: Session, product: Product, start: dt.datetime, end: dt.datetime,
         *, use_overrides: bool = True) -> list[Gap]:
    """What keeps `product` from being produced over [start, end): empty when all is in order."""
    requirements = requirements_for(session, product)
    if not requirements:
        return []
    if use_overrides and _active_override(session, product.id, start, end) is not None:
        return []
    house = _house(session, product.member_id)
    member = session.get(Member, product.member_id)
    found: list[Gap] = []
    for group, types in requirements.items():
        permits = _candidates(session, product, types)
        if not permits and any(t.code == "nib" for t in types) and member is not None and member.nib:
            continue  # the NIB on the member's record, which has no expiry
        best: Permit | None = None
        best_end: dt.datetime | None = None
        last_expired: Permit | None = None
        waiting: Permit | None = None  # an entry that would cover the time once verified
        ok = False
        for permit in permits:
            if permit.status is not PermitStatus.active:
                continue
            begins = _valid_from(house, permit)
            if begins is not None and begins > start:
                continue
            if not counts(house, permit):
                if waiting is None and (permit.expires_on is None
                                        or lapse_moment(house, permit.expires_on) >= end):
                    waiting = permit
                continue
            if permit.expires_on is None:
                ok = True
                break
            ends = lapse_moment(house, permit.expires_on)
            if ends >= end:
                ok = True
                break
            if ends > start and (best_end is None or ends > best_end):
                best, best_end = permit, ends
            elif ends <= start and (last_expired is None
                                    or permit.expires_on > last_expired.expires_on):  # type: ignore[operator]
                last_expired = permit
        if ok:
            continue
        codes = [t.code for t in types]
        if waiting is not None:
            found.append(Gap(group, codes, "unverified", waiting.expires_on, waiting.id,
                             waiting.verification.value, waiting.number or None))
        elif best is not None:
            found.append(Gap(group, codes, "lapses", best.expires_on, best.id))
        else:
            found.append(Gap(group, codes, "missing",
                             last_expired.expires_on if last_expired else None,
                             last_expired.id if last_expired else None))
    return found


def check_gate(session: Session, product: Product, start: dt.datetime,
               end: dt.datetime) -> list[dict[str, Any]]:
    """The missing or lapsing requirements for producing `product` over [start, end)."""
    return [g.as_dict() for g in gaps(session, product, start, end)]


def _names(session: Session, codes: list[str]) -> str:
    names = {t.code: t.name for t in session.scalars(
        select(PermitType).where(PermitType.code.in_(codes)))}
    return " or ".join(names.get(c, c) for c in codes)


def require_permits(session: Session, product: Product, start: dt.datetime,
                    end: dt.datetime) -> None:
    """Raise Conflict unless `product` may be produced over [start, end): `permit_unverified`
    when every gap is an entry the house has not verified (or rejected), naming those permits
    in `details.permit_ids`; else `permit_missing`."""
    found = gaps(session, product, start, end)
    if not found:
        return
    errors = {f"permits.{g.group}": [g.message(_names(session, g.types))] for g in found}
    details: dict[str, Any] = {"missing": [g.as_dict() for g in found]}
    unverified = all(g.problem == "unverified" for g in found)
    if unverified:
        details["permit_ids"] = [g.permit_id for g in found]
    raise Conflict(
        N_("The permits (izin edar) of %(product)s are not in order for this time: %(problems)s",
           product=product.name, problems=i18n.join([m[0] for m in errors.values()], " ")),
        code="permit_unverified" if unverified else "permit_missing", errors=errors,
        details=details,
    )


def production_deadline(session: Session, product: Product, start: dt.datetime, *,
                        requirements: dict[str, list[PermitType]] | None = None) -> dt.datetime | None:
    """The latest instant production of `product` begun at `start` may run to (None: no limit).

    Equal to `start` when a requirement is not met at all; an override covering `start`
    extends the limit to the override's end. `requirements`: requirements_for(product), when
    the caller read them already (requirements_of).
    """
    if requirements is None:
        requirements = requirements_for(session, product)
    if not requirements:
        return None
    house = _house(session, product.member_id)
    member = session.get(Member, product.member_id)
    limit: dt.datetime | None = None
    for _group, types in requirements.items():
        permits = _candidates(session, product, types)
        if not permits and any(t.code == "nib" for t in types) and member is not None and member.nib:
            continue
        group_end: dt.datetime | None = start
        for permit in permits:
            begins = _valid_from(house, permit)
            if permit.status is not PermitStatus.active or (begins is not None and begins > start) \
                    or not counts(house, permit):
                continue
            if permit.expires_on is None:
                group_end = None
                break
            ends = lapse_moment(house, permit.expires_on)
            if group_end is not None and ends > group_end:
                group_end = ends
        if group_end is not None and (limit is None or group_end < limit):
            limit = group_end
    if limit is None:
        return None
    override = session.scalars(select(PermitOverride).where(
        PermitOverride.product_id == product.id, PermitOverride.revoked.is_(False),
        PermitOverride.valid_from <= start, PermitOverride.valid_until > limit,
    ).order_by(PermitOverride.valid_until.desc())).first()
    return override.valid_until if override is not None else limit


def deadline_minute(session: Session, product: Product, earliest_start: dt.datetime,
                    horizon_start: dt.datetime, *,
                    requirements: dict[str, list[PermitType]] | None = None) -> int | None:
    """The solver's hard deadline (minutes from the horizon start) set by the permits."""
    limit = production_deadline(session, product, max(earliest_start, horizon_start),
                                requirements=requirements)
    if limit is None:
        return None
    return max(0, int((limit - horizon_start).total_seconds() // 60))


# -- permit types and requirements (reference data) -------------------------------------------

TYPE_FIELDS = ("code", "name", "level", "expiry", "validity_years", "renewal_window_days",
               "grace_days", "issuer", "note")
REQUIREMENT_FIELDS = ("sector", "kind", "product_id", "unless_family", "one_of", "note")


def list_types(session: Session, actor: Actor) -> Select[tuple[PermitType]]:
    return select(PermitType).order_by(PermitType.code, PermitType.id)


def _type_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in TYPE_FIELDS}
    for field, enum in (("level", PermitLevel), ("expiry", Expiry)):
        if field in values:
            try:
                values[field] = enum(values[field])
            except ValueError:
                raise _fail(field, N_("Choose one of: %(value)s.",
                                      value=', '.join(e.value for e in enum))) from None
    if "code" in values and not re.fullmatch(r"[a-z][a-z0-9_]{1,19}", str(values["code"])):
        raise _fail("code", N_("A code is 2 to 20 lower-case letters, digits or underscores."))
    return values


def create_type(session: Session, actor: Actor, data: dict[str, Any]) -> PermitType:
    actor.require(Role.admin)
    values = _type_values(data)
    if session.scalar(select(PermitType.id).where(PermitType.code == values["code"])) is not None:
        raise Conflict(N_("A permit type with this code exists."), code="duplicate_permit_type",
                       errors={"code": [N_("Already used.")]})
    ptype = PermitType(**values)
    session.add(ptype)
    session.flush()
    audit.record(session, actor, "permit_type.created", ptype, after=audit.snapshot(ptype))
    return ptype


def get_type(session: Session, actor: Actor, type_id: int) -> PermitType:
    ptype = session.get(PermitType, type_id) if 0 < type_id <= 2**63 - 1 else None
    if ptype is None:
        raise NotFound(N_("Permit type %(type_id)s was not found.", type_id=type_id))
    return ptype


def update_type(session: Session, actor: Actor, type_id: int, data: dict[str, Any]) -> PermitType:
    actor.require(Role.admin)
    ptype = get_type(session, actor, type_id)
    values = _type_values(data)
    values.pop("code", None)  # codes are what rules and numbers refer to
    before = audit.snapshot(ptype)
    for key, value in values.items():
        setattr(ptype, key, value)
    session.flush()
    audit.record(session, actor, "permit_type.updated", ptype, before=before,
                 after=audit.snapshot(ptype))
    return ptype


def list_requirements(session: Session, actor: Actor) -> Select[tuple[PermitRequirement]]:
    return (select(PermitRequirement).options(joinedload(PermitRequirement.permit_type))
            .order_by(PermitRequirement.one_of, PermitRequirement.id))


def _requirement_values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in REQUIREMENT_FIELDS}
    if "permit_type" in data:
        ptype = session.scalars(select(PermitType).where(
            PermitType.code == data["permit_type"])).first()
        if ptype is None:
            raise _fail("permit_type", N_("No permit type is called %(permit_type)s.",
                                          permit_type=repr(data['permit_type'])))
        values["permit_type_id"] = ptype.id
    if values.get("product_id") is not None and session.get(Product, values["product_id"]) is None:
        raise _fail("product_id", N_("Unknown product."))
    return values


def create_requirement(session: Session, actor: Actor, data: dict[str, Any]) -> PermitRequirement:
    actor.require(Role.admin)
    values = _requirement_values(session, data)
    if "permit_type_id" not in values:
        raise _fail("permit_type", N_("Required."))
    values.setdefault("one_of", data["permit_type"])
    row = PermitRequirement(**values)
    session.add(row)
    session.flush()
    audit.record(session, actor, "permit_requirement.created", row, after=audit.snapshot(row))
    return row


def get_requirement(session: Session, actor: Actor, requirement_id: int) -> PermitRequirement:
    row = session.get(PermitRequirement, requirement_id) if 0 < requirement_id <= 2**63 - 1 else None
    if row is None:
        raise NotFound(N_("Permit requirement %(requirement_id)s was not found.",
                          requirement_id=requirement_id))
    return row


def update_requirement(session: Session, actor: Actor, requirement_id: int,
                       data: dict[str, Any]) -> PermitRequirement:
    actor.require(Role.admin)
    row = get_requirement(session, actor, requirement_id)
    values = _requirement_values(session, data)
    before = audit.snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    audit.record(session, actor, "permit_requirement.updated", row, before=before,
                 after=audit.snapshot(row))
    return row


def delete_requirement(session: Session, actor: Actor, requirement_id: int) -> None:
    actor.require(Role.admin)
    row = get_requirement(session, actor, requirement_id)
    before = audit.snapshot(row)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "permit_requirement.deleted", object_type="permit_requirements",
                 object_id=requirement_id, before=before)


# -- permits ----------------------------------------------------------------------------------

PERMIT_FIELDS = ("number", "issuer", "issued_on", "expires_on", "status")
# What a verifier checks: a change of any of these (or of the document) needs a new check.
CHECKED_FIELDS = ("number", "issued_on", "expires_on")


def _may_write(session: Session, actor: Actor, member: Member) -> None:
    actor.require(Role.admin, Role.manager, Role.member)
    if not ((actor.role is Role.member and actor.member_id == member.id)
            or actor.manages(member.house_id)):
        raise Forbidden(N_("Your role may not change this member's permits."))


def _apply(session: Session, permit: Permit, ptype: PermitType, data: dict[str, Any]) -> None:
    for key in PERMIT_FIELDS:
        if key in data:
            value = data[key]
            if key == "status":
                try:
                    value = PermitStatus(value)
                except ValueError:
                    raise _fail("status", N_("Choose pending, active or needs_review.")) from None
            setattr(permit, key, value if value is not None or key in ("issued_on", "expires_on")
                    else "")
    if permit.status is not PermitStatus.pending or permit.number:
        permit.number = validate_number(ptype.code, permit.number or "", permit.expires_on)
    _check_dates(ptype, permit.status, permit.issued_on, permit.expires_on)
    if not permit.issuer:
        permit.issuer = ptype.issuer


def create_permit(session: Session, actor: Actor, data: dict[str, Any]) -> Permit:
    product: Product | None = None
    if data.get("product_id") is not None:
        product = get_scoped(session, actor, Product, data["product_id"])
        member_id = product.member_id
    else:
        member_id = data.get("member_id") or (actor.member_id if actor.role is Role.member else None)
        if member_id is None:
            raise _fail("member_id", N_("Say whose permit this is (member_id or product_id)."))
    member = get_scoped(session, actor, Member, member_id)
    _may_write(session, actor, member)
    ptype = session.scalars(select(PermitType).where(
        PermitType.code == data.get("permit_type"))).first()
    if ptype is None:
        raise _fail("permit_type", N_("No permit type is called %(value)s.",
                                      value=repr(data.get('permit_type'))))
    if ptype.level is PermitLevel.product and product is None:
        raise _fail("product_id", N_("A %(ptype)s belongs to a product: give product_id.",
                                     ptype=ptype.name))
    if ptype.level is PermitLevel.business and product is not None:
        raise _fail("product_id", N_("A %(ptype)s belongs to the business: leave product_id "
                                     "out.", ptype=ptype.name))
    permit = Permit(member_id=member.id, product_id=product.id if product else None,
                    permit_type_id=ptype.id, permit_type=ptype, number="", issuer="",
                    status=PermitStatus.active, reminders_sent=[])
    _apply(session, permit, ptype, data)
    _entered_by(actor, permit, member, utcnow())
    session.add(permit)
    session.flush()
    permit.last_state = state(session, permit)
    audit.record(session, actor, "permit.created", permit, after=audit.snapshot(permit))
    return permit


def list_permits(session: Session, actor: Actor, *, member_id: int | None = None,
                 product_id: int | None = None, permit_type: str | None = None,
                 state_filter: str | None = None,
                 verification: str | None = None) -> list[Permit]:
    stmt = scoped(actor, Permit)
    if verification is not None:
        stmt = stmt.where(Permit.verification == PermitVerification(verification))
    if member_id is not None:
        stmt = stmt.where(Permit.member_id == member_id)
    if product_id is not None:
        stmt = stmt.where(Permit.product_id == product_id)
    if permit_type is not None:
        stmt = stmt.where(Permit.permit_type_id.in_(
            select(PermitType.id).where(PermitType.code == permit_type)))
    permits = list(session.scalars(stmt.order_by(Permit.expires_on, Permit.id).options(
        joinedload(Permit.permit_type), selectinload(Permit.verification_records))))
    _keep_members(session, (p.member_id for p in permits))
    if state_filter is not None:
        permits = [p for p in permits if state(session, p) == state_filter]
    return permits


def get_permit(session: Session, actor: Actor, permit_id: int) -> Permit:
    return get_scoped(session, actor, Permit, permit_id)


def update_permit(session: Session, actor: Actor, permit_id: int, data: dict[str, Any]) -> Permit:
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _may_write(session, actor, member)
    clears_review = (permit.status is PermitStatus.needs_review and "status" in data
                     and data["status"] != PermitStatus.needs_review.value)
    note = (data.get("note") or "").strip()
    if clears_review:
        _check_review_clearance(actor, member, note)
    before = audit.snapshot(permit)
    old_expiry = permit.expires_on
    old_checked = {k: getattr(permit, k) for k in CHECKED_FIELDS}
    was_pending = permit.status is PermitStatus.pending
    _apply(session, permit, permit.permit_type, data)
    if permit.status is not PermitStatus.needs_review:
        permit.review_reason = None
    if permit.expires_on != old_expiry:
        permit.reminders_sent = []  # a renewed permit gets its reminders again
    if any(getattr(permit, k) != v for k, v in old_checked.items()) \
            or (was_pending and permit.status is PermitStatus.active):
        _entered_by(actor, permit, member, utcnow())
    permit.last_state = state(session, permit)
    session.flush()
    audit.record(session, actor, "permit.updated", permit, before=before,
                 after=audit.snapshot(permit))
    if clears_review:
        audit.record(session, actor, "permit.review_cleared", permit, before=before,
                     after=audit.snapshot(permit, extra={"note": note}))
    return permit


# -- verification -----------------------------------------------------------------------------

def _entered_by(actor: Actor, permit: Permit, member: Member, now: dt.datetime) -> None:
    """A new or changed entry: verified in the name of a manager of the member's house or an
    admin who made it, else (the member's own) submitted until someone checks it."""
    verifier = actor.role in (Role.admin, Role.manager) and actor.manages(member.house_id)
    _set_verification(permit, actor, PermitVerification.verified if verifier
                      else PermitVerification.submitted, None, now)


def _set_verification(permit: Permit, actor: Actor, to: PermitVerification, note: str | None,
                      now: dt.datetime | None) -> None:
    permit.verification = to
    permit.verification_records.append(PermitVerificationRecord(
        verification=to, by_id=actor.user_id, at=now or utcnow(), note=note or None))


def _for_verification(session: Session, actor: Actor, permit_id: int) -> Permit:
    """The permit locked for a verification decision: members and aggregators get 403, a
    permit outside the caller's scope 404."""
    actor.require(Role.admin, Role.manager)
    permit = locking.for_update(session, actor, Permit, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    if not actor.manages(member.house_id):
        raise Forbidden(N_("Only a manager of the member's house or an admin checks its permits."))
    return permit


def _decide(session: Session, actor: Actor, permit: Permit, to: PermitVerification,
            note: str | None, now: dt.datetime | None) -> dict[str, Any]:
    before = audit.snapshot(permit)
    _set_verification(permit, actor, to, note, now)
    session.flush()
    return before


def verify_permit(session: Session, actor: Actor, permit_id: int, *, note: str = "",
                  now: dt.datetime | None = None) -> Permit:
    """A manager of the member's house or an admin checked the number and document: the
    permit counts at the gate from now on (audited `permit.verified`)."""
    permit = _for_verification(session, actor, permit_id)
    if permit.verification is PermitVerification.verified:
        raise InvalidTransition(N_("This permit is verified already."), details={
            "action": "verify", "verification": permit.verification.value})
    before = _decide(session, actor, permit, PermitVerification.verified, (note or "").strip(),
                     now)
    audit.record(session, actor, "permit.verified", permit, before=before,
                 after=audit.snapshot(permit, extra={"note": (note or "").strip()}))
    return permit


def reject_permit(session: Session, actor: Actor, permit_id: int, *, reason: str,
                  now: dt.datetime | None = None) -> Permit:
    """The number or document does not hold up: the permit is `rejected` (never counts) until
    the member corrects it; the member is told (event `permit_verification_rejected`)."""
    permit = _for_verification(session, actor, permit_id)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise _fail("reason", N_("Say what is wrong with the permit, so that the member can fix it."))
    if permit.verification is PermitVerification.rejected:
        raise InvalidTransition(N_("This permit is rejected already."), details={
            "action": "reject", "verification": permit.verification.value})
    before = _decide(session, actor, permit, PermitVerification.rejected, reason, now)
    audit.record(session, actor, "permit.verification_rejected", permit, before=before,
                 after=audit.snapshot(permit, extra={"reason": reason}))
    events.publish(session, "permit_verification_rejected", permit=permit, reason=reason,
                   actor=actor)
    return permit


def _check_review_clearance(actor: Actor, member: Member, note: str) -> None:
    if not (actor.role in (Role.admin, Role.manager) and actor.manages(member.house_id)):
        raise Forbidden(N_("Only a manager of the member's house or an admin may mark a halal "
                        "certificate in review as valid again."))
    if len(note) < 5:
        raise _fail("note", N_("Say why the certificate still holds after the change."))


def clear_review(session: Session, actor: Actor, permit_id: int, *, note: str) -> Permit:
    """A manager of the member's house or an admin marks a certificate in `needs_review` as
    active again, with a note (audited `permit.review_cleared`)."""
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _check_review_clearance(actor, member, (note or "").strip())
    permit = locking.refresh_for_update(session, permit)
    if permit.status is not PermitStatus.needs_review:
        raise InvalidTransition(N_("This permit is not waiting for a review."), details={
            "action": "clear_review", "status": permit.status.value})
    return update_permit(session, actor, permit.id, {"status": PermitStatus.active.value,
                                                     "note": note})


def delete_permit(session: Session, actor: Actor, permit_id: int) -> None:
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _may_write(session, actor, member)
    before = audit.snapshot(permit)
    session.delete(permit)
    session.flush()
    audit.record(session, actor, "permit.deleted", object_type="permits", object_id=permit_id,
                 before=before)


def _document_kind(content: bytes) -> tuple[str, str]:
    for magic, kind in DOCUMENT_KINDS.items():
        if content.startswith(magic):
            return kind
    raise _fail("document", N_("Upload a PDF, PNG or JPEG file."))


def _used_document_bytes(session: Session, member_id: int, *, besides: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(Permit.document_size), 0)).where(
        Permit.member_id == member_id, Permit.id != besides)) or 0)


def attach_document(session: Session, actor: Actor, permit_id: int, *, filename: str,
                    content: bytes,
                    member_cap_bytes: int = MAX_DOCUMENT_BYTES_PER_MEMBER) -> Permit:
    """Store the scanned permit in the database with the permit, replacing an earlier one.

    Typed by its magic bytes, at most 5 MB a file and `member_cap_bytes` for all of a member's
    documents (413 `document_storage_full`). The member row is locked first (FOR UPDATE on
    PostgreSQL; SQLite serialises writers anyway), so two uploads at once cannot both pass the
    cap.
    """
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _may_write(session, actor, member)
    if not content:
        raise _fail("document", N_("The file is empty."))
    if len(content) > MAX_DOCUMENT_BYTES:
        raise _fail("document", N_("The file is larger than 5 MB."))
    mime, ext = _document_kind(content)
    session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    used = _used_document_bytes(session, member.id, besides=permit.id)
    if used + len(content) > member_cap_bytes:
        raise DocumentStorageFull(
            f"Your permit documents would take {used + len(content)} bytes, above the "
            f"{member_cap_bytes} bytes a member may keep. Remove or replace a document first.",
            errors={"document": ["There is no room left for this document."]},
            details={"cap_bytes": member_cap_bytes, "used_bytes": used,
                     "file_bytes": len(content)})
    before = audit.snapshot(permit)
    # A replacement overwrites the old bytes in their row (without reading them first).
    replaced = session.execute(update(PermitDocumentContent).where(
        PermitDocumentContent.permit_id == permit.id).values(content=content, created_at=utcnow()))
    if not replaced.rowcount:
        session.add(PermitDocumentContent(permit_id=permit.id, content=content))
    permit.document_mime = mime
    permit.document_size = len(content)
    permit.document_name = (PurePosixPath((filename or "").replace("\\", "/")).name
                            or f"permit.{ext}")[:200]
    _entered_by(actor, permit, member, utcnow())
    session.flush()
    audit.record(session, actor, "permit.document_attached", permit, before=before,
                 after=audit.snapshot(permit))
    return permit


def remove_document(session: Session, actor: Actor, permit_id: int) -> Permit:
    """Delete a permit's document, bytes and all; the permit stays."""
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    _may_write(session, actor, member)
    if not permit.has_document:
        raise NotFound(N_("This permit has no document."))
    before = audit.snapshot(permit)
    session.execute(delete(PermitDocumentContent).where(
        PermitDocumentContent.permit_id == permit.id))
    permit.document_mime = permit.document_size = permit.document_name = None
    _entered_by(actor, permit, member, utcnow())
    session.flush()
    audit.record(session, actor, "permit.document_removed", permit, before=before,
                 after=audit.snapshot(permit))
    return permit


@dataclass(frozen=True)
class StoredDocument:
    content: bytes
    mime: str
    name: str


def document(session: Session, actor: Actor, permit_id: int) -> StoredDocument:
    """The stored document of a permit in scope, read from the database."""
    permit = get_permit(session, actor, permit_id)
    stored = session.get(PermitDocumentContent, permit.id) if permit.has_document else None
    if stored is None:
        raise NotFound(N_("This permit has no document."))
    return StoredDocument(content=stored.content,
                          mime=permit.document_mime or "application/octet-stream",
                          name=permit.document_name or "permit")


# -- overrides --------------------------------------------------------------------------------

def create_override(session: Session, actor: Actor, data: dict[str, Any],
                    now: dt.datetime | None = None) -> PermitOverride:
    actor.require(Role.admin, Role.manager)
    product = get_scoped(session, actor, Product, data["product_id"])
    member = session.get(Member, product.member_id)
    assert member is not None
    if not actor.manages(member.house_id):
        raise Forbidden(N_("Only a manager of the member's house may override its permits."))
    reason = (data.get("reason") or "").strip()
    if len(reason) < 5:
        raise _fail("reason", N_("Say why production may go ahead without the permit."))
    now = now or utcnow()
    valid_from = data.get("valid_from") or now
    until = data["until"]
    for field, value in (("valid_from", valid_from), ("until", until)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise _fail(field, N_("Give a date and time with a time zone."))
    if until <= valid_from:
        raise _fail("until", N_("Must be after the start of the override."))
    override = PermitOverride(product_id=product.id, manager_id=actor.user_id, reason=reason,
                              valid_from=valid_from, valid_until=until, revoked=False)
    session.add(override)
    session.flush()
    audit.record(session, actor, "permit_override.created", override,
                 after=audit.snapshot(override))
    return override


def list_overrides(session: Session, actor: Actor, *,
                   product_id: int | None = None) -> Select[tuple[PermitOverride]]:
    """Overrides in scope (of one product if given), by id."""
    stmt = scoped(actor, PermitOverride)
    if product_id is not None:
        stmt = stmt.where(PermitOverride.product_id == product_id)
    return stmt.order_by(PermitOverride.id)


def revoke_override(session: Session, actor: Actor, override_id: int) -> PermitOverride:
    actor.require(Role.admin, Role.manager)
    override = get_scoped(session, actor, PermitOverride, override_id)
    product = session.get(Product, override.product_id)
    assert product is not None
    if not actor.manages(_house(session, product.member_id).id):
        raise Forbidden(N_("Only a manager of the member's house may revoke this override."))
    before = audit.snapshot(override)
    override.revoked = True
    session.flush()
    audit.record(session, actor, "permit_override.revoked", override, before=before,
                 after=audit.snapshot(override))
    return override


# -- domain event: a product changed ----------------------------------------------------------

def on_product_changed(session: Session, product: Product, before: dict[str, Any] | None = None,
                       actor: Actor | None = None, **_: Any) -> None:
    """A changed routing or family puts the product's halal certificate in needs review."""
    if before is None:
        return
    after = audit.snapshot(product, extra={"routing": [
        {"position": s.position, "capability_id": s.capability_id, "setup_minutes": s.setup_minutes,
         "minutes_per_unit": s.minutes_per_unit, "min_lag_minutes": s.min_lag_minutes}
        for s in product.routing]})
    changed = [k for k in ("routing", "family") if before.get(k) != after.get(k)]
    if not changed:
        return
    halal = session.scalars(select(Permit).join(PermitType).where(
        Permit.product_id == product.id, PermitType.code == "halal",
        Permit.status == PermitStatus.active))
    for permit in halal:
        snap = audit.snapshot(permit)
        permit.status = PermitStatus.needs_review
        permit.review_reason = N_("The product's %(fields)s changed.",
                                  fields=" and ".join(changed))[:300]
        permit.last_state = "needs_review"
        session.flush()
        audit.record(session, actor or Actor.system(), "permit.review_requested", permit,
                     before=snap, after=audit.snapshot(permit))
        from factoryshare.services.notifications import notify

        house = _house(session, permit.member_id)
        notify(session, user_ids=_member_user_ids(session, permit.member_id)
               + _manager_ids(session, house.id),
               template="permit_needs_review",
               context={"product": product.name, "number": permit.number,
                        "timezone": house.timezone},
               key=f"permit-review-{permit.id}-{permit.updated_at.isoformat()}")


# -- overview ---------------------------------------------------------------------------------

def overview(session: Session, actor: Actor, *, house_id: int | None = None,
             cluster_id: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts of permits by state and by verification, and the products blocked now (only
    permits that count open the gate), per house or cluster."""
    members = scoped(actor, Member)
    if house_id is not None:
        house = get_scoped(session, actor, ProductionHouse, house_id)
        if actor.role is Role.member or (actor.role is Role.manager and not actor.manages(house.id)):
            raise Forbidden(N_("Only the house's managers see its permit overview."))
        members = members.where(Member.house_id == house.id)
    elif cluster_id is not None:
        cluster = get_scoped(session, actor, Cluster, cluster_id)
        members = members.where(Member.id.in_([m.id for m in cluster.members]))
    elif not actor.is_admin:
        actor.require(Role.admin, Role.manager, Role.aggregator)
    member_ids = [m.id for m in session.scalars(members)]
    by_state = {s: 0 for s in STATES}
    by_verification = {v: 0 for v in VERIFICATIONS}
    now = now or utcnow()
    for permit in session.scalars(select(Permit).where(Permit.member_id.in_(member_ids))
                                  if member_ids else select(Permit).where(false())):
        by_state[state(session, permit, now)] += 1
        by_verification[permit.verification.value] += 1
    blocked = []
    products = session.scalars(select(Product).where(Product.member_id.in_(member_ids))
                               .order_by(Product.id)) if member_ids else []
    for product in products:
        found = gaps(session, product, now, now + dt.timedelta(minutes=1))
        if found:
            blocked.append({"product_id": product.id, "member_id": product.member_id,
                            "name": product.name, "missing": [g.as_dict() for g in found]})
    return {"house_id": house_id, "cluster_id": cluster_id, "members": len(member_ids),
            **by_state, "verification": by_verification, "blocked_products": blocked}


# -- the daily watch --------------------------------------------------------------------------

def _member_user_ids(session: Session, member_id: int) -> list[int]:
    return list(session.scalars(select(User.id).where(User.member_id == member_id,
                                                      User.is_active.is_(True))))


def _manager_ids(session: Session, house_id: int) -> list[int]:
    return list(session.scalars(select(house_managers.c.user_id).where(
        house_managers.c.house_id == house_id)))


def _flag(session: Session, subject: str, subject_id: int, key: str, gap: Gap,
          product_id: int) -> bool:
    """Store the flag once; False when it was stored before."""
    exists = session.scalar(select(PermitFlag.id).where(
        PermitFlag.subject == subject, PermitFlag.subject_id == subject_id, PermitFlag.key == key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(PermitFlag(subject=subject, subject_id=subject_id, key=key,
                                   permit_id=gap.permit_id, product_id=product_id,
                                   lapse_on=gap.lapse_on))
            session.flush()
    except IntegrityError:
        return False
    return True


def run_watch(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    """Statuses, 90/30/7-day reminders (each once), bookings and loans at risk (each flagged once).

    The scheduler runs it at 07:00 in each of Indonesia's zones (jobs.registry.DAILY_AT) and
    once after it starts; a house is looked at from 07:00 house time on, and since each step
    only does what was not done yet, further runs the same day change nothing.
    """
    from factoryshare.models.bookings import Booking, BookingStatus
    from factoryshare.services.notifications import notify

    now = now or utcnow()
    result = {"houses": 0, "states_changed": 0, "reminders": 0, "bookings_flagged": 0,
              "loans_flagged": 0}
    for house in session.scalars(select(ProductionHouse).order_by(ProductionHouse.id)):
        local = now.astimezone(calendar.house_zone(house))
        if local.hour < WATCH_LOCAL_HOUR:
            continue
        result["houses"] += 1
        today = local.date()
        managers = _manager_ids(session, house.id)
        permits = session.scalars(select(Permit).where(Permit.member_id.in_(
            select(Member.id).where(Member.house_id == house.id))).order_by(Permit.id))
        for permit in permits:
            current = state_on(permit, today)
            if current != permit.last_state:
                permit.last_state = current
                result["states_changed"] += 1
            if permit.status is not PermitStatus.active or permit.expires_on is None \
                    or permit.verification is PermitVerification.rejected:
                continue
            left = (permit.expires_on - today).days
            sent = set(permit.reminders_sent or [])
            due = [d for d in REMINDER_DAYS if 0 <= left <= d and d not in sent]
            if not due:
                continue
            product = session.get(Product, permit.product_id) if permit.product_id else None
            member = session.get(Member, permit.member_id)
            notify(session, user_ids=_member_user_ids(session, permit.member_id) + managers,
                   template="permit_expiring",
                   context={"product": product.name if product else member.business_name,  # type: ignore[union-attr]
                            "permit": permit.permit_type.name, "number": permit.number,
                            "expires_on": permit.expires_on, "days_left": left,
                            "timezone": house.timezone},
                   key=f"permit-{permit.id}-{permit.expires_on.isoformat()}-{min(due)}")
            permit.reminders_sent = sorted(sent | set(due), reverse=True)
            result["reminders"] += 1
        # Future bookings that a missing or lapsing permit no longer covers.
        bookings = session.scalars(select(Booking).where(
            Booking.product_id.is_not(None), Booking.end_at > now,
            Booking.status.in_([BookingStatus.held, BookingStatus.confirmed]),
            Booking.member_id.in_(select(Member.id).where(Member.house_id == house.id)),
        ).order_by(Booking.start_at))
        for booking in bookings:
            product = session.get(Product, booking.product_id)
            if product is None:
                continue
            for gap in gaps(session, product, booking.start_at, booking.end_at):
                key = f"{gap.group}:{gap.lapse_on.isoformat() if gap.lapse_on else 'none'}"
                if not _flag(session, "booking", booking.id, key, gap, product.id):
                    continue
                result["bookings_flagged"] += 1
                notify(session, user_ids=_member_user_ids(session, booking.member_id) + managers,
                       template="permit_booking_at_risk",
                       context={"product": product.name, "permit": _names(session, gap.types),
                                "machine": booking.machine.name, "start": booking.start_at,
                                "end": booking.end_at, "expires_on": gap.lapse_on,
                                "timezone": house.timezone},
                       key=f"permit-booking-{booking.id}-{key}")
        result["loans_flagged"] += _watch_loans(session, house, now)
    return result


_OPEN_LOANS = ("draft", "submitted", "changes_requested", "approved", "lender_approved",
               "disbursing")


def _watch_loans(session: Session, house: ProductionHouse, now: dt.datetime) -> int:
    """Loan applications financing production that a permit does not cover: tell the aggregator."""
    from factoryshare.models.bookings import Booking
    from factoryshare.models.financing import LoanApplication, LoanPlanLink, LoanStatus
    from factoryshare.models.scheduling import ProductionRequest
    from factoryshare.services.notifications import notify

    flagged = 0
    links = session.scalars(select(LoanPlanLink).join(LoanApplication).where(
        LoanApplication.status.in_([LoanStatus(s) for s in _OPEN_LOANS])).order_by(LoanPlanLink.id))
    for link in links:
        if link.production_request_id is not None:
            request = session.get(ProductionRequest, link.production_request_id)
            if request is None or request.house_id != house.id or request.due <= now:
                continue
            product_id, start, end = request.product_id, max(request.earliest_start, now), request.due
        else:
            booking = session.get(Booking, link.booking_id)
            if booking is None or booking.product_id is None or booking.end_at <= now \
                    or booking.machine.house_id != house.id:
                continue
            product_id, start, end = booking.product_id, booking.start_at, booking.end_at
        product = session.get(Product, product_id)
        if product is None:
            continue
        loan = session.get(LoanApplication, link.loan_application_id)
        assert loan is not None
        for gap in gaps(session, product, start, end):
            key = f"{link.id}:{gap.group}:{gap.lapse_on.isoformat() if gap.lapse_on else 'none'}"
            if not _flag(session, "loan_application", loan.id, key, gap, product.id):
                continue
            flagged += 1
            aggregator_users = list(session.scalars(select(User.id).where(
                User.aggregator_id == loan.cluster.aggregator_id, User.is_active.is_(True))))
            notify(session, user_ids=aggregator_users, template="permit_loan_at_risk",
                   context={"cluster": loan.cluster.name, "loan": f"#{loan.id}",
                            "product": product.name, "permit": _names(session, gap.types),
                            "expires_on": gap.lapse_on, "timezone": house.timezone},
                   key=f"permit-loan-{loan.id}-{key}")
    return flagged
