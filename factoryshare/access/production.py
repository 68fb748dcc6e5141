"""Scope rules of planned production: production requests and schedule runs.

A production request is the member's: the member sees its own, the manager of the house it
is made in sees it (the house's runs plan it), an aggregator those of the members who
accepted a place in one of its clusters (a loan application bundles them). A schedule run is
the house's planning tool: only the managers of its house (and admins) see it; members see
what a published run made of their requests as bookings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false

from factoryshare.access.members import cluster_member_ids
from factoryshare.access.owners import owned_by_member
from factoryshare.models import Role
from factoryshare.models.scheduling import ProductionRequest, ScheduleRun

if TYPE_CHECKING:
    from factoryshare.access import Actor


def request_scope(actor: Actor) -> Any:
    """A manager the requests of its houses, a member its own, an aggregator those of its
    clusters' members."""
    if actor.role is Role.manager:
        return ProductionRequest.house_id.in_(actor.house_ids)
    if actor.role is Role.member:
        return owned_by_member(actor, ProductionRequest)
    if actor.role is Role.aggregator:
        return ProductionRequest.member_id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


def run_scope(actor: Actor) -> Any:
    """A manager the runs of its houses; nobody else."""
    if actor.role is Role.manager:
        return ScheduleRun.house_id.in_(actor.house_ids)
    return false()
