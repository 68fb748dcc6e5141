"""Cluster consent in the services: invitations, plans made before consent, the house each
audit event belongs to, and the migration that asks the existing members."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from factoryshare import audit
from factoryshare.access import Actor
from factoryshare.db import make_engine
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.migrate import upgrade
from factoryshare.models import AuditEvent, Role, cluster_members
from factoryshare.models.members import ClusterInvitation, InvitationStatus
from factoryshare.services import cluster_invitations, clusters, loans
from tests.factories.migrations import insert_house_and_member

ADMIN = Actor(user_id=None, role=Role.admin)
START = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


def _member_actor(member) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(user_id=None, role=Role.member, member_id=member.id)


def test_an_invitation_the_aggregator_takes_back_can_no_longer_be_accepted(
    db, make_member, make_aggregator
):
    aggregator = make_aggregator()
    member = make_member()
    actor = Actor(user_id=None, role=Role.aggregator, aggregator_id=aggregator.id)
    cluster = clusters.create_cluster(
        db, actor, {"name": "Klaster Kulit", "sector": "craft", "member_ids": [member.id]}
    )
    (invitation,) = cluster.pending_invitations

    clusters.update_cluster(db, actor, cluster.id, {"member_ids": []})

    assert invitation.status is InvitationStatus.withdrawn
    with pytest.raises(Conflict) as refused:
        cluster_invitations.accept_invitation(db, _member_actor(member), invitation.id)
    assert refused.value.code == "invalid_transition"
    assert cluster.members == []


def test_inviting_a_member_twice_makes_one_invitation(db, make_member, make_aggregator):
    aggregator = make_aggregator()
    member = make_member()
    actor = Actor(user_id=None, role=Role.aggregator, aggregator_id=aggregator.id)
    cluster = clusters.create_cluster(
        db, actor, {"name": "Klaster Dua", "sector": "craft", "member_ids": [member.id]}
    )
    clusters.update_cluster(db, actor, cluster.id, {"member_ids": [member.id]})
    assert (
        len(
            db.scalars(
                select(ClusterInvitation).where(ClusterInvitation.cluster_id == cluster.id)
            ).all()
        )
        == 1
    )


def test_a_plan_made_before_a_member_had_to_accept_cannot_be_submitted(
    db, make_member, make_cluster, make_machine, make_booking
):
    a, b = make_member(), make_member()
    cluster = make_cluster(members=[a, b])
    machine = make_machine(hourly_rate=100_000)
    booking = make_booking(
        machine=machine,
        member=b,
        start_at=START,
        end_at=START + dt.timedelta(hours=2),
        price=200_000,
        hourly_rate=100_000,
    )
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1,
        tenor_months=12,
        on=dt.date(2026, 1, 15),
    )
    loans.set_plan(db, ADMIN, app.id, booking_ids=[booking.id], material_costs={a.id: 500_000})
    # What the consent migration does to a membership nobody asked the member about.
    db.execute(cluster_members.delete().where(cluster_members.c.member_id == b.id))
    db.add(
        ClusterInvitation(
            cluster_id=cluster.id,
            member_id=b.id,
            status=InvitationStatus.invited,
            on_behalf=False,
            reason="",
        )
    )
    db.flush()
    db.expire(cluster)

    with pytest.raises(ValidationFailed) as refused:
        loans.submit(db, ADMIN, app.id)

    assert "has not accepted" in refused.value.errors[f"shares[{b.id}].member_id"][0]


def test_a_draft_holding_a_members_share_keeps_it_in_the_cluster_but_not_the_others(
    db, make_member, make_cluster, make_machine, make_booking
):
    a, b = make_member(), make_member()
    cluster = make_cluster(members=[a, b])
    booking = make_booking(
        machine=make_machine(),
        member=a,
        start_at=START,
        end_at=START + dt.timedelta(hours=1),
        price=100_000,
    )
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1,
        tenor_months=12,
        on=dt.date(2026, 1, 15),
    )
    loans.set_plan(db, ADMIN, app.id, booking_ids=[booking.id])

    with pytest.raises(Conflict) as refused:
        clusters.remove_member(db, _member_actor(a), cluster.id, a.id)
    assert (
        refused.value.code == "cluster_loan_open" and "draft application" in refused.value.message
    )
    clusters.remove_member(db, _member_actor(b), cluster.id, b.id)
    assert [m.id for m in cluster.members] == [a.id]


def test_an_audit_event_keeps_the_house_of_its_object(
    db, make_house, make_member, make_machine, make_booking, make_product, make_cluster
):
    member_house, machine_house, cluster_house = make_house(), make_house(), make_house()
    member = make_member(house=member_house)
    booking = make_booking(machine=make_machine(house=machine_house), member=member)
    product = make_product(member=member)
    cluster = make_cluster(members=[member], house_id=cluster_house.id)
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=1_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 15),
    )

    houses = {
        kind: audit.record(db, ADMIN, "object.tested", obj).house_id
        for kind, obj in (
            ("booking", booking),
            ("product", product),
            ("loan", app),
            ("member", member),
        )
    }

    assert houses == {
        "booking": machine_house.id,
        "product": member_house.id,
        "loan": cluster_house.id,
        "member": member_house.id,
    }
    gone = audit.record(
        db,
        ADMIN,
        "member.deleted",
        object_type="members",
        object_id=99,
        before={"house_id": member_house.id},
    )
    assert gone.house_id == member_house.id


def test_the_consent_migration_asks_existing_members_and_gives_past_events_their_house(tmp_path):
    url = f"sqlite:///{tmp_path / 'before-consent.db'}"
    upgrade(url, revision="0001_foundation")
    engine = make_engine(url)
    at = "2026-11-01 00:00:00.000000"
    with engine.begin() as conn:
        insert_house_and_member(conn, business_name="Kulit Jaya", sector="craft")
        conn.execute(
            text(
                "INSERT INTO aggregators (id, name, address, phone, email, approval_limit, created_at)"
                f" VALUES (5, 'Koperasi', '', '', '', 0, '{at}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO clusters (id, aggregator_id, name, sector, house_id, chair_member_id,"
                f" created_at) VALUES (9, 5, 'Klaster', 'craft', NULL, 3, '{at}')"
            )
        )
        conn.execute(text("INSERT INTO cluster_members (cluster_id, member_id) VALUES (9, 3)"))
        for kind, object_id in (
            ("members", 3),
            ("production_houses", 7),
            ("clusters", 9),
            ("users", 1),
        ):
            conn.execute(
                text(
                    "INSERT INTO audit_events (at, action, object_type, object_id) VALUES"
                    f" ('{at}', 'update', '{kind}', '{object_id}')"
                )
            )

    upgrade(url, revision="0012_cluster_consent")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cluster_members")).scalar() == 0
        invitations = conn.execute(
            text("SELECT cluster_id, member_id, status FROM cluster_invitations")
        ).all()
        houses = dict(conn.execute(text("SELECT object_type, house_id FROM audit_events")).all())
    engine.dispose()
    assert invitations == [(9, 3, "invited")]
    assert houses == {"members": 7, "production_houses": 7, "clusters": None, "users": None}


def test_answering_an_invitation_is_audited_for_the_members_house(db, make_member, make_cluster):
    member = make_member()
    cluster = make_cluster(invited=[member])
    (invitation,) = cluster.pending_invitations
    cluster_invitations.decline_invitation(db, _member_actor(member), invitation.id)
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "cluster_invitation.declined",
            AuditEvent.object_id == str(invitation.id),
        )
    ).one()
    assert event.house_id == member.house_id and event.after["status"] == "declined"
