"""The two ownership rules most scope rules are made of, written once: "of a machine of the
house" (a manager's houses) and "owned by the member" (the signed-in member)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from factoryshare.models import Machine

if TYPE_CHECKING:
    from factoryshare.access import Actor


def of_house_machines(actor: Actor, model: Any) -> Any:
    """`model`'s rows whose machine (`model.machine_id`) belongs to one of the houses the
    actor manages (`actor.house_ids`; none for anyone but a manager)."""
    return model.machine_id.in_(select(Machine.id).where(Machine.house_id.in_(actor.house_ids)))


def owned_by_member(actor: Actor, model: Any) -> Any:
    """`model`'s rows owned by the actor's member (`model.member_id == actor.member_id`): for
    a member actor, who always has one."""
    return model.member_id == actor.member_id
