"""Clusters: an aggregator's groups of members producing in a house (KUR Klaster groups).

An aggregator creates its clusters and edits their membership; the chair must be one of the
members; every member must be a business registered in the system. Members read the
clusters they belong to, managers the clusters producing in their houses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.models import Aggregator, Cluster, Member, ProductionHouse, Role, Sector


def _snapshot(cluster: Cluster) -> dict[str, Any]:
    return audit.snapshot(cluster, extra={"member_ids": [m.id for m in cluster.members]})


def _members(session: Session, ids: list[int]) -> list[Member]:
    wanted = list(dict.fromkeys(ids))
    found = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(wanted)))} if wanted else {}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        message = f"No member business is registered with id {', '.join(map(str, unknown))}."
        raise ValidationFailed(message, errors={"member_ids": [message]})
    return [found[i] for i in wanted]


def _apply(session: Session, cluster: Cluster, data: dict[str, Any]) -> None:
    if "name" in data:
        name = data["name"].strip()
        if not name:
            raise ValidationFailed("A cluster needs a name.", errors={"name": ["May not be blank."]})
        cluster.name = name
    if "sector" in data:
        cluster.sector = Sector(data["sector"])
    if "house_id" in data:
        house_id = data["house_id"]
        if house_id is not None and session.get(ProductionHouse, house_id) is None:
            raise ValidationFailed("This production house does not exist.",
                                   errors={"house_id": ["This production house does not exist."]})
        cluster.house_id = house_id
    if "member_ids" in data:
        cluster.members = _members(session, data["member_ids"])
    if "chair_member_id" in data:
        cluster.chair_member_id = data["chair_member_id"]
    if cluster.chair_member_id is not None and cluster.chair_member_id not in {m.id for m in cluster.members}:
        message = "The chair must be one of the cluster's members."
        raise ValidationFailed(message, errors={"chair_member_id": [message]})


def _check_name_free(session: Session, aggregator_id: int, name: str, cluster_id: int | None) -> None:
    stmt = select(Cluster.id).where(Cluster.aggregator_id == aggregator_id, Cluster.name == name)
    if cluster_id is not None:
        stmt = stmt.where(Cluster.id != cluster_id)
    if session.scalar(stmt) is not None:
        message = "You already have a cluster with this name."
        raise Conflict(message, code="duplicate_cluster", errors={"name": [message]})


def create_cluster(session: Session, actor: Actor, data: dict[str, Any]) -> Cluster:
    actor.require(Role.admin, Role.aggregator)
    if actor.role is Role.aggregator:
        aggregator_id = actor.aggregator_id
    else:
        aggregator_id = data.get("aggregator_id")
        if aggregator_id is None or session.get(Aggregator, aggregator_id) is None:
            raise ValidationFailed("Say which aggregator the cluster belongs to.",
                                   errors={"aggregator_id": ["Give an existing aggregator."]})
    cluster = Cluster(aggregator_id=aggregator_id, members=[])
    _apply(session, cluster, {"member_ids": [], **data})
    _check_name_free(session, cluster.aggregator_id, cluster.name, None)
    session.add(cluster)
    session.flush()
    audit.record(session, actor, "cluster.created", cluster, after=_snapshot(cluster))
    return cluster


def update_cluster(session: Session, actor: Actor, cluster_id: int, data: dict[str, Any]) -> Cluster:
    actor.require(Role.admin, Role.aggregator)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    before = _snapshot(cluster)
    with session.no_autoflush:
        _apply(session, cluster, data)
        _check_name_free(session, cluster.aggregator_id, cluster.name, cluster.id)
    session.flush()
    audit.record(session, actor, "cluster.updated", cluster, before=before, after=_snapshot(cluster))
    return cluster


def list_clusters(session: Session, actor: Actor, *, house_id: int | None = None,
                  sector: str | None = None) -> Select[tuple[Cluster]]:
    stmt = scoped(actor, Cluster)
    if house_id is not None:
        stmt = stmt.where(Cluster.house_id == house_id)
    if sector is not None:
        stmt = stmt.where(Cluster.sector == Sector(sector))
    return stmt.order_by(Cluster.name, Cluster.id)


def get_cluster(session: Session, actor: Actor, cluster_id: int) -> Cluster:
    return get_scoped(session, actor, Cluster, cluster_id)


def delete_cluster(session: Session, actor: Actor, cluster_id: int) -> None:
    actor.require(Role.admin, Role.aggregator)
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    before = _snapshot(cluster)
    try:
        with session.begin_nested():
            session.delete(cluster)
            session.flush()
    except IntegrityError:
        raise Conflict("This cluster still has agreements or loans; it stays.",
                       code="cluster_in_use") from None
    audit.record(session, actor, "cluster.deleted", object_type="clusters", object_id=cluster_id,
                 before=before)
