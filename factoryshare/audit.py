"""Recording audit events in the same transaction as the change they describe."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import AuditEvent

# Never copied into the audit trail.
_SECRET_COLUMNS = {"password_hash", "token_hash"}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: Any, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of a mapped object as JSON-ready data (secrets left out)."""
    mapper = inspect(obj).mapper
    data = {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SECRET_COLUMNS
    }
    if extra:
        data.update({k: _plain(v) for k, v in extra.items()})
    return data


# How an object leads to its production house: a reference column and the model it names.
# The first that leads somewhere wins (a booking's machine, not its member, names the house).
_HOUSE_PATHS = (
    "machine_id",
    "cluster_id",
    "loan_application_id",
    "agreement_id",
    "member_id",
    "product_id",
)


def _house_via(session: Session, column: str, ref: int) -> int | None:
    from factoryshare.models import Cluster, Machine, Member, Product
    from factoryshare.models.financing import LoanApplication, OfftakeAgreement

    model = {
        "machine_id": Machine,
        "cluster_id": Cluster,
        "member_id": Member,
        "product_id": Product,
        "loan_application_id": LoanApplication,
        "agreement_id": OfftakeAgreement,
    }[column]
    target = session.get(model, ref)
    return house_of(session, target) if target is not None else None


def house_of(session: Session, obj: Any) -> int | None:
    """The production house `obj` belongs to, if it belongs to one."""
    from factoryshare.models import ProductionHouse

    if isinstance(obj, ProductionHouse):
        return obj.id
    house_id = getattr(obj, "house_id", None)
    if isinstance(house_id, int):
        return house_id
    for column in _HOUSE_PATHS:
        ref = getattr(obj, column, None)
        if isinstance(ref, int) and not isinstance(ref, bool):
            found = _house_via(session, column, ref)
            if found is not None:
                return found
    return None


# Every action is named `<object>.<past-tense verb>` ("booking.cancelled", "loan.prepaid",
# "cluster.member_left"): what happened to what, read the same way in every area.
_ACTION = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
_IRREGULAR_PAST = frozenset({"set", "left", "sent", "paid", "prepaid", "repaid", "done"})


def check_action(action: str) -> str:
    """The action if it is `<object>.<past-tense verb>`; ValueError otherwise (a programming
    error the tests meet, never a user's)."""
    if _ACTION.fullmatch(action) is None:
        raise ValueError(f"audit action {action!r} is not <object>.<past-tense verb>")
    verb = action.partition(".")[2]
    if not any(w.endswith("ed") or w in _IRREGULAR_PAST for w in verb.split("_")):
        raise ValueError(f"audit action {action!r}: the verb is not in the past tense")
    return action


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    house_id: int | None = None,
) -> AuditEvent:
    """Add the event; `house_id` (else the object's house, else a `house_id` in the values)
    lets the managers of that house read it."""
    if obj is not None:
        session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
        if house_id is None:
            house_id = house_of(session, obj)
    if house_id is None:
        for values in (after, before):
            if isinstance(values, dict) and isinstance(values.get("house_id"), int):
                house_id = values["house_id"]
                break
    event = AuditEvent(
        house_id=house_id,
        actor_id=actor.user_id,
        action=check_action(action),
        object_type=object_type or "unknown",
        object_id=str(object_id),
        before=before,
        after=after,
    )
    session.add(event)
    return event
