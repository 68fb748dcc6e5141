"""Scope rules of the houses and what they hold: houses, capabilities, machines, downtimes.

Every signed-in user reads them all: a member must see every house's machines, their
capabilities and their maintenance windows to find a free slot and book it, and nothing in
them belongs to a member. Who may change them is decided by the services (a manager its own
houses), not by what may be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import true

if TYPE_CHECKING:
    from factoryshare.access import Actor


def readable_by_everyone(actor: Actor) -> Any:
    """Houses, capabilities, machines and downtimes: every signed-in role sees every row."""
    return true()
