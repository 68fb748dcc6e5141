"""The gate: the requirements of a product, what keeps it from being produced over a time
(`gaps`, `require_permits`), the deadline the permits set for the planner.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from factoryshare import i18n
from factoryshare.errors import Conflict
from factoryshare.i18n import N_
from factoryshare.models import Member, Product, ProductionHouse
from factoryshare.models.permits import (
    Permit,
    PermitLevel,
    PermitOverride,
    PermitRequirement,
    PermitStatus,
    PermitType,
    PermitVerification,
)
from factoryshare.services import calendar
from factoryshare.services.permits.core import house_of
from factoryshare.services.permits.state import counts, lapse_moment

# -- requirements and the gate ----------------------------------------------------------------


def requirements_for(session: Session, product: Product) -> dict[str, list[PermitType]]:
    """Requirement group -> the permit types any one of which satisfies it."""
    sector = product.sector.value if hasattr(product.sector, "value") else product.sector
    kind = product.kind.value if hasattr(product.kind, "value") else product.kind
    rows = session.scalars(
        select(PermitRequirement)
        .where(
            or_(PermitRequirement.sector.is_(None), PermitRequirement.sector == sector),
            or_(PermitRequirement.kind.is_(None), PermitRequirement.kind == kind),
            or_(PermitRequirement.product_id.is_(None), PermitRequirement.product_id == product.id),
        )
        .order_by(PermitRequirement.id)
    )
    return _requirement_groups(product, rows)


def _requirement_groups(product: Product, rows: Any) -> dict[str, list[PermitType]]:
    groups: dict[str, list[PermitType]] = defaultdict(list)
    for row in rows:
        if row.unless_family is not None and product.family == row.unless_family:
            continue
        if row.permit_type not in groups[row.one_of]:
            groups[row.one_of].append(row.permit_type)
    return dict(groups)


def requirements_of(
    session: Session, products: Iterable[Product]
) -> dict[int, dict[str, list[PermitType]]]:
    """requirements_for of many products (a schedule run's), by product id, in one statement:
    the requirements of any sector and kind, and those of these products."""
    wanted = {p.id: p for p in products}
    if not wanted:
        return {}
    rows = list(
        session.scalars(
            select(PermitRequirement)
            .where(
                or_(
                    PermitRequirement.product_id.is_(None),
                    PermitRequirement.product_id.in_(sorted(wanted)),
                ),
            )
            .options(joinedload(PermitRequirement.permit_type))
            .order_by(PermitRequirement.id)
        )
    )

    def value(v: Any) -> Any:
        return v.value if hasattr(v, "value") else v

    result = {}
    for product_id, product in wanted.items():
        sector, kind = value(product.sector), value(product.kind)
        result[product_id] = _requirement_groups(
            product,
            [
                r
                for r in rows
                if (r.sector is None or value(r.sector) == sector)
                and (r.kind is None or value(r.kind) == kind)
                and (r.product_id is None or r.product_id == product_id)
            ],
        )
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
            which = (
                N_("permit %(number)s", number=self.number)
                if self.number
                else N_("permit #%(id)s", id=self.permit_id)
            )
            if self.verification == PermitVerification.rejected.value:
                return N_(
                    "%(names)s: %(which)s was rejected when the house checked it.",
                    names=names,
                    which=which,
                )
            return N_(
                "%(names)s: %(which)s is waiting for the house to verify it.",
                names=names,
                which=which,
            )
        if self.problem == "lapses":
            return N_(
                "%(names)s: valid only until %(day)s.",
                names=names,
                day=self.lapse_on.isoformat(),  # type: ignore[union-attr]
            )
        if self.lapse_on is not None:
            return N_("%(names)s: expired on %(day)s.", names=names, day=self.lapse_on.isoformat())
        return N_("%(names)s: no valid permit.", names=names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "types": self.types,
            "problem": self.problem,
            "lapse_on": self.lapse_on.isoformat() if self.lapse_on else None,
            "permit_id": self.permit_id,
            "verification": self.verification,
        }


def _candidates(session: Session, product: Product, types: list[PermitType]) -> list[Permit]:
    type_ids = [t.id for t in types]
    return list(
        session.scalars(
            select(Permit)
            .where(
                Permit.member_id == product.member_id,
                Permit.permit_type_id.in_(type_ids),
                or_(
                    Permit.product_id == product.id,
                    Permit.product_id.is_(None)
                    & Permit.permit_type_id.in_(
                        [t.id for t in types if t.level is PermitLevel.business]
                    ),
                ),
            )
            .order_by(Permit.id)
        )
    )


def _valid_from(house: ProductionHouse, permit: Permit) -> dt.datetime | None:
    if permit.issued_on is None:
        return None
    return dt.datetime.combine(
        permit.issued_on, dt.time(0), tzinfo=calendar.house_zone(house)
    ).astimezone(dt.UTC)


def _active_override(
    session: Session, product_id: int, start: dt.datetime, end: dt.datetime
) -> PermitOverride | None:
    return session.scalars(
        select(PermitOverride)
        .where(
            PermitOverride.product_id == product_id,
            PermitOverride.revoked.is_(False),
            PermitOverride.valid_from <= start,
            PermitOverride.valid_until >= end,
        )
        .order_by(PermitOverride.id)
    ).first()


def gaps(
    session: Session,
    product: Product,
    start: dt.datetime,
    end: dt.datetime,
    *,
    use_overrides: bool = True,
) -> list[Gap]:
    """What keeps `product` from being produced over [start, end): empty when all is in order."""
    requirements = requirements_for(session, product)
    if not requirements:
        return []
    if use_overrides and _active_override(session, product.id, start, end) is not None:
        return []
    house = house_of(session, product.member_id)
    member = session.get(Member, product.member_id)
    found: list[Gap] = []
    for group, types in requirements.items():
        permits = _candidates(session, product, types)
        if (
            not permits
            and any(t.code == "nib" for t in types)
            and member is not None
            and member.nib
        ):
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
                if waiting is None and (
                    permit.expires_on is None or lapse_moment(house, permit.expires_on) >= end
                ):
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
            elif ends <= start and (
                last_expired is None or permit.expires_on > last_expired.expires_on  # type: ignore[operator]
            ):
                last_expired = permit
        if ok:
            continue
        codes = [t.code for t in types]
        if waiting is not None:
            found.append(
                Gap(
                    group,
                    codes,
                    "unverified",
                    waiting.expires_on,
                    waiting.id,
                    waiting.verification.value,
                    waiting.number or None,
                )
            )
        elif best is not None:
            found.append(Gap(group, codes, "lapses", best.expires_on, best.id))
        else:
            found.append(
                Gap(
                    group,
                    codes,
                    "missing",
                    last_expired.expires_on if last_expired else None,
                    last_expired.id if last_expired else None,
                )
            )
    return found


def check_gate(
    session: Session, product: Product, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """The missing or lapsing requirements for producing `product` over [start, end)."""
    return [g.as_dict() for g in gaps(session, product, start, end)]


def type_names(session: Session, codes: list[str]) -> str:
    """The permit types that would each do, as alternatives in the reader's language."""
    names = {
        t.code: t.name
        for t in session.scalars(select(PermitType).where(PermitType.code.in_(codes)))
    }
    return i18n.either([names.get(c, c) for c in codes])


def require_permits(
    session: Session, product: Product, start: dt.datetime, end: dt.datetime
) -> None:
    """Raise Conflict unless `product` may be produced over [start, end): `permit_unverified`
    when every gap is an entry the house has not verified (or rejected), naming those permits
    in `details.permit_ids`; else `permit_missing`."""
    found = gaps(session, product, start, end)
    if not found:
        return
    errors = {f"permits.{g.group}": [g.message(type_names(session, g.types))] for g in found}
    details: dict[str, Any] = {"missing": [g.as_dict() for g in found]}
    unverified = all(g.problem == "unverified" for g in found)
    if unverified:
        details["permit_ids"] = [g.permit_id for g in found]
    raise Conflict(
        N_(
            "The permits (izin edar) of %(product)s are not in order for this time: %(problems)s",
            product=product.name,
            problems=i18n.join([m[0] for m in errors.values()], " "),
        ),
        code="permit_unverified" if unverified else "permit_missing",
        errors=errors,
        details=details,
    )


def production_deadline(
    session: Session,
    product: Product,
    start: dt.datetime,
    *,
    requirements: dict[str, list[PermitType]] | None = None,
) -> dt.datetime | None:
    """The latest instant production of `product` begun at `start` may run to (None: no limit).

    Equal to `start` when a requirement is not met at all; an override covering `start`
    extends the limit to the override's end. `requirements`: requirements_for(product), when
    the caller read them already (requirements_of).
    """
    if requirements is None:
        requirements = requirements_for(session, product)
    if not requirements:
        return None
    house = house_of(session, product.member_id)
    member = session.get(Member, product.member_id)
    limit: dt.datetime | None = None
    for _group, types in requirements.items():
        permits = _candidates(session, product, types)
        if (
            not permits
            and any(t.code == "nib" for t in types)
            and member is not None
            and member.nib
        ):
            continue
        group_end: dt.datetime | None = start
        for permit in permits:
            begins = _valid_from(house, permit)
            if (
                permit.status is not PermitStatus.active
                or (begins is not None and begins > start)
                or not counts(house, permit)
            ):
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
    override = session.scalars(
        select(PermitOverride)
        .where(
            PermitOverride.product_id == product.id,
            PermitOverride.revoked.is_(False),
            PermitOverride.valid_from <= start,
            PermitOverride.valid_until > limit,
        )
        .order_by(PermitOverride.valid_until.desc())
    ).first()
    return override.valid_until if override is not None else limit


def deadline_minute(
    session: Session,
    product: Product,
    earliest_start: dt.datetime,
    horizon_start: dt.datetime,
    *,
    requirements: dict[str, list[PermitType]] | None = None,
) -> int | None:
    """The solver's hard deadline (minutes from the horizon start) set by the permits."""
    limit = production_deadline(
        session, product, max(earliest_start, horizon_start), requirements=requirements
    )
    if limit is None:
        return None
    return max(0, int((limit - horizon_start).total_seconds() // 60))
