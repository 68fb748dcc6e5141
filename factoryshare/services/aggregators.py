"""Aggregators (offtaker organisations): set up by admins, read by their own users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from factoryshare import audit, validation
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Aggregator, Role

FIELDS = ("name", "nib", "address", "phone", "email", "approval_limit")


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}
    if values.get("nib") is not None:
        try:
            values["nib"] = validation.nib(values["nib"])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if values.get("phone"):
        try:
            values["phone"] = validation.phone(values["phone"])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            errors["name"] = [N_("May not be blank.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return values


def _check_unique(session: Session, values: dict[str, Any], aggregator_id: int | None) -> None:
    for field in ("name", "nib"):
        value = values.get(field)
        if value is None:
            continue
        stmt = select(Aggregator.id).where(getattr(Aggregator, field) == value)
        if aggregator_id is not None:
            stmt = stmt.where(Aggregator.id != aggregator_id)
        if session.scalar(stmt) is not None:
            message = (
                N_("Another aggregator already has this NIB.")
                if field == "nib"
                else N_("Another aggregator already has this %(field)s.", field=field)
            )
            raise Conflict(message, code=f"duplicate_{field}", errors={field: [message]})


def create_aggregator(session: Session, actor: Actor, data: dict[str, Any]) -> Aggregator:
    actor.require(Role.admin)
    values = _normalise(data)
    _check_unique(session, values, None)
    aggregator = Aggregator(**values)
    session.add(aggregator)
    session.flush()
    audit.record(session, actor, "aggregator.created", aggregator, after=audit.snapshot(aggregator))
    return aggregator


def update_aggregator(
    session: Session, actor: Actor, aggregator_id: int, data: dict[str, Any]
) -> Aggregator:
    actor.require(Role.admin)
    aggregator = get_scoped(session, actor, Aggregator, aggregator_id)
    values = _normalise(data)
    _check_unique(session, values, aggregator.id)
    before = audit.snapshot(aggregator)
    for key, value in values.items():
        setattr(aggregator, key, value)
    session.flush()
    audit.record(
        session,
        actor,
        "aggregator.updated",
        aggregator,
        before=before,
        after=audit.snapshot(aggregator),
    )
    return aggregator


def list_aggregators(session: Session, actor: Actor) -> Select[tuple[Aggregator]]:
    actor.require(Role.admin, Role.aggregator)
    return scoped(actor, Aggregator).order_by(Aggregator.name, Aggregator.id)


def get_aggregator(session: Session, actor: Actor, aggregator_id: int) -> Aggregator:
    actor.require(Role.admin, Role.aggregator)
    return get_scoped(session, actor, Aggregator, aggregator_id)
