"""Recording audit events in the same transaction as the change they describe."""

from __future__ import annotations

import datetime as dt
import enum
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
) -> AuditEvent:
    if obj is not None:
        session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    event = AuditEvent(
        actor_id=actor.user_id,
        action=action,
        object_type=object_type or "unknown",
        object_id=str(object_id),
        before=before,
        after=after,
    )
    session.add(event)
    return event
