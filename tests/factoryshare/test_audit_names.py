"""Audit actions read the same way everywhere: `<object>.<past-tense verb>`."""

import pytest

from factoryshare import audit
from factoryshare.access import Actor


@pytest.mark.parametrize(
    "action",
    [
        "booking.cancelled",
        "loan.prepaid",
        "cluster.member_left",
        "loan_application.sent_back",
        "booking.marked_no_show",
        "loan_application.plan_set",
    ],
)
def test_an_action_named_object_dot_past_tense_verb_is_recorded(db, action):
    event = audit.record(db, Actor.system(), action, object_type="bookings", object_id=1)
    assert event.action == action


@pytest.mark.parametrize(
    "action",
    [
        "create",
        "booking.cancel",
        "booking.move",
        "Booking.Created",
        "booking.created.twice",
        "permit.needs_review",
    ],
)
def test_an_action_in_another_form_is_refused_before_it_is_written(db, action):
    with pytest.raises(ValueError):
        audit.record(db, Actor.system(), action, object_type="bookings", object_id=1)


def test_the_migration_renames_the_events_written_under_the_old_names(tmp_path):
    import sqlalchemy as sa

    from factoryshare.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, revision="0001_foundation")
    engine = sa.create_engine(url)
    rows = [
        ("booking.cancel", "bookings"),
        ("create", "users"),
        ("account_locked", "users"),
        ("permit_type.created", "permit_types"),
    ]
    with engine.begin() as conn:
        for action, object_type in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (action, object_type, object_id, at, before, after) "
                    "VALUES (:a, :t, '1', '2026-11-01 00:00:00', NULL, NULL)"
                ),
                {"a": action, "t": object_type},
            )
    upgrade(url, revision="0025_audit_action_names")
    with engine.connect() as conn:
        actions = sorted(conn.scalars(sa.text("SELECT action FROM audit_events")))
    engine.dispose()
    assert actions == ["booking.cancelled", "permit_type.created", "user.created", "user.locked"]
