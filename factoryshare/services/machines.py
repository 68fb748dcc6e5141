"""Machines of a house and the capabilities they offer.

Capabilities are a shared catalogue (`sewing`, `vacuum_frying` ...) that admins keep; product
routings and machines both refer to them by code. A machine belongs to one house; an admin or
a manager of that house adds and changes it. Rates are integer rupiah per hour; a booking keeps
the price it was made at, so a rate change affects new bookings only.

A machine taken out of service (maintenance or retired) must not strand members: while it has
live bookings in the future the change is refused with their count, and the manager records a
downtime instead, which cancels or keeps them and tells the members.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern, utcnow
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Capability, Machine, MachineStatus, ProductionHouse, Role
from factoryshare.models.bookings import LIVE_STATUSES, Booking

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
MACHINE_FIELDS = ("code", "name", "hourly_rate", "status", "description")


# ---------------------------------------------------------------------------------------------
# Capabilities


def _capability_fields(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in ("code", "name", "description", "pausable")}
    if "code" in values and not CODE_PATTERN.match(values["code"]):
        message = N_("A capability code is lower-case letters, digits and _ (e.g. vacuum_frying).")
        raise ValidationFailed(message, errors={"code": [message]})
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise ValidationFailed(
                N_("A capability needs a name."), errors={"name": [N_("May not be blank.")]}
            )
    return values


def _check_code_free(session: Session, code: str, capability_id: int | None = None) -> None:
    stmt = select(Capability.id).where(Capability.code == code)
    if capability_id is not None:
        stmt = stmt.where(Capability.id != capability_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            N_("A capability with this code exists already."),
            code="duplicate_capability",
            errors={"code": [N_("Already used.")]},
        )


def list_capabilities(
    session: Session, actor: Actor, *, q: str | None = None
) -> Select[tuple[Capability]]:
    stmt = scoped(actor, Capability)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            func.lower(Capability.code).like(pattern, escape="\\")
            | func.lower(Capability.name).like(pattern, escape="\\")
        )
    return stmt.order_by(Capability.code)


def get_capability(session: Session, actor: Actor, capability_id: int) -> Capability:
    return get_scoped(session, actor, Capability, capability_id)


def create_capability(session: Session, actor: Actor, data: dict[str, Any]) -> Capability:
    actor.require(Role.admin)
    values = _capability_fields(data)
    _check_code_free(session, values["code"])
    capability = Capability(**values)
    session.add(capability)
    session.flush()
    audit.record(session, actor, "capability.created", capability, after=audit.snapshot(capability))
    return capability


def update_capability(
    session: Session, actor: Actor, capability_id: int, data: dict[str, Any]
) -> Capability:
    capability = get_scoped(session, actor, Capability, capability_id)
    actor.require(Role.admin)
    values = _capability_fields(data)
    if "code" in values:
        _check_code_free(session, values["code"], capability.id)
    before = audit.snapshot(capability)
    for key, value in values.items():
        setattr(capability, key, value)
    session.flush()
    audit.record(
        session,
        actor,
        "capability.updated",
        capability,
        before=before,
        after=audit.snapshot(capability),
    )
    return capability


def delete_capability(session: Session, actor: Actor, capability_id: int) -> None:
    capability = get_scoped(session, actor, Capability, capability_id)
    actor.require(Role.admin)
    before = audit.snapshot(capability)
    try:
        with session.begin_nested():
            session.delete(capability)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("Machines or product routings still use this capability; it stays."),
            code="capability_in_use",
        ) from None
    audit.record(
        session,
        actor,
        "capability.deleted",
        object_type="capabilities",
        object_id=capability_id,
        before=before,
    )


# ---------------------------------------------------------------------------------------------
# Machines


def _capabilities_by_code(session: Session, codes: list[str]) -> list[Capability]:
    found = {
        c.code: c for c in session.scalars(select(Capability).where(Capability.code.in_(codes)))
    }
    errors = {
        f"capabilities[{i}]": [N_("No machine capability is called %(code)s.", code=code)]
        for i, code in enumerate(codes)
        if code not in found
    }
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    if not codes:
        raise ValidationFailed(
            N_("A machine needs at least one capability."),
            errors={"capabilities": [N_("Give at least one capability code.")]},
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _machine_fields(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in MACHINE_FIELDS}
    for key in ("code", "name"):
        if key in values:
            values[key] = values[key].strip()
            if not values[key]:
                raise ValidationFailed(
                    N_("A machine needs a %(key)s.", key=key),
                    errors={key: [N_("May not be blank.")]},
                )
    if "status" in values:
        try:
            values["status"] = MachineStatus(values["status"])
        except ValueError:
            message = N_(
                "Choose one of: %(value)s.", value=", ".join(s.value for s in MachineStatus)
            )
            raise ValidationFailed(message, errors={"status": [message]}) from None
    return values


def _may_manage(actor: Actor, house_id: int) -> None:
    actor.require(Role.admin, Role.manager)
    if not actor.manages(house_id):
        raise Forbidden(N_("Only the managers of this house may change its machines."))


def _check_machine_code_free(
    session: Session, house_id: int, code: str, machine_id: int | None = None
) -> None:
    stmt = select(Machine.id).where(Machine.house_id == house_id, Machine.code == code)
    if machine_id is not None:
        stmt = stmt.where(Machine.id != machine_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            N_("This house already has a machine with this code."),
            code="duplicate_machine",
            errors={"code": [N_("Already used in this house.")]},
        )


def _snapshot(machine: Machine) -> dict[str, Any]:
    return audit.snapshot(machine, extra={"capabilities": [c.code for c in machine.capabilities]})


def future_live_bookings(session: Session, machine_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.machine_id == machine_id,
                Booking.status.in_(LIVE_STATUSES),
                Booking.end_at > utcnow(),
            )
        )
        or 0
    )


def list_machines(
    session: Session,
    actor: Actor,
    *,
    house_id: int | None = None,
    capability: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Select[tuple[Machine]]:
    stmt = scoped(actor, Machine)
    if house_id is not None:
        stmt = stmt.where(Machine.house_id == house_id)
    if capability:
        stmt = stmt.where(Machine.capabilities.any(Capability.code == capability))
    if status:
        stmt = stmt.where(Machine.status == MachineStatus(status))
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            func.lower(Machine.name).like(pattern, escape="\\")
            | func.lower(Machine.code).like(pattern, escape="\\")
        )
    # Each machine lists its capabilities: read with the list.
    return stmt.order_by(Machine.house_id, Machine.code, Machine.id).options(
        selectinload(Machine.capabilities)
    )


def get_machine(session: Session, actor: Actor, machine_id: int) -> Machine:
    return get_scoped(session, actor, Machine, machine_id)


def create_machine(session: Session, actor: Actor, data: dict[str, Any]) -> Machine:
    house = get_scoped(session, actor, ProductionHouse, data["house_id"])
    _may_manage(actor, house.id)
    values = _machine_fields(data)
    capabilities = _capabilities_by_code(session, data.get("capabilities") or [])
    _check_machine_code_free(session, house.id, values["code"])
    machine = Machine(house_id=house.id, **values)
    machine.capabilities = capabilities
    session.add(machine)
    session.flush()
    audit.record(session, actor, "machine.created", machine, after=_snapshot(machine))
    return machine


def update_machine(
    session: Session, actor: Actor, machine_id: int, data: dict[str, Any]
) -> Machine:
    machine = get_scoped(session, actor, Machine, machine_id)
    _may_manage(actor, machine.house_id)
    values = _machine_fields(data)
    capabilities = (
        _capabilities_by_code(session, data["capabilities"]) if "capabilities" in data else None
    )
    if "code" in values:
        _check_machine_code_free(session, machine.house_id, values["code"], machine.id)
    leaving_service = values.get("status", machine.status) is not MachineStatus.active
    if leaving_service and machine.status is MachineStatus.active:
        live = future_live_bookings(session, machine.id)
        if live:
            raise Conflict(
                N_(
                    "This machine has %(live)s booking(s) still to come. Record a downtime "
                    "instead: it cancels or keeps them and tells the members.",
                    live=live,
                ),
                code="machine_has_bookings",
                errors={"status": [N_("%(live)s future booking(s).", live=live)]},
            )
    before = _snapshot(machine)
    for key, value in values.items():
        setattr(machine, key, value)
    if capabilities is not None:
        machine.capabilities = capabilities
    session.flush()
    audit.record(
        session, actor, "machine.updated", machine, before=before, after=_snapshot(machine)
    )
    return machine


def delete_machine(session: Session, actor: Actor, machine_id: int) -> None:
    """Remove a machine that was never used; one with history is retired instead."""
    machine = get_scoped(session, actor, Machine, machine_id)
    _may_manage(actor, machine.house_id)
    used = (
        session.scalar(
            select(func.count()).select_from(Booking).where(Booking.machine_id == machine.id)
        )
        or 0
    )
    if used:
        raise Conflict(
            N_("This machine has bookings on record; set its status to retired instead."),
            code="machine_in_use",
        )
    before = _snapshot(machine)
    try:
        with session.begin_nested():
            session.delete(machine)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("This machine is still referred to (schedules or loans); retire it instead."),
            code="machine_in_use",
        ) from None
    audit.record(
        session,
        actor,
        "machine.deleted",
        object_type="machines",
        object_id=machine_id,
        before=before,
    )
