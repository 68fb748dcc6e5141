"""GET /notifications: each user reads the messages addressed to it, and only those."""

from __future__ import annotations

import datetime as dt

from factoryshare.models import Role
from factoryshare.services.notifications import notify

UTC = dt.UTC
SLOT = {
    "machine": "Mesin Jahit 3",
    "start": dt.datetime(2026, 11, 24, 2, tzinfo=UTC),
    "end": dt.datetime(2026, 11, 24, 3, tzinfo=UTC),
    "timezone": "Asia/Jakarta",
}


def test_a_member_lists_its_own_notifications_in_its_language(client, db, make_user, token_for):
    siti = make_user(Role.member, language="id")
    other = make_user(Role.member, language="en")
    notify(db, user_ids=[siti.id, other.id], template="waitlist_slot_free", context=SLOT)
    notify(db, user_ids=[siti.id], template="hold_expired", context=SLOT)
    r = client.get("/api/v1/notifications", headers=token_for(siti))
    assert r.status_code == 200, r.json
    assert r.json["total"] == 2
    assert {n["template"] for n in r.json["items"]} == {"waitlist_slot_free", "hold_expired"}
    assert all(n["user_id"] == siti.id and n["language"] == "id" for n in r.json["items"])
    assert all(n["status"] == "pending" for n in r.json["items"])
    assert "09:00–10:00 WIB" in r.json["items"][0]["subject"]


def test_notifications_can_be_filtered_by_status(client, db, make_user, token_for):
    user = make_user(Role.manager)
    notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    headers = token_for(user)
    assert client.get("/api/v1/notifications?status=pending", headers=headers).json["total"] == 1
    assert client.get("/api/v1/notifications?status=failed", headers=headers).json["total"] == 0
    r = client.get("/api/v1/notifications?status=lost", headers=headers)
    assert r.status_code == 422
    assert "status" in r.json["errors"]


def test_a_member_cannot_read_another_users_notification(client, db, make_user, token_for):
    siti, budi = make_user(Role.member), make_user(Role.member)
    [note] = notify(db, user_ids=[budi.id], template="hold_expired", context=SLOT)
    assert (
        client.get(f"/api/v1/notifications/{note.id}", headers=token_for(budi)).status_code == 200
    )
    r = client.get(f"/api/v1/notifications/{note.id}", headers=token_for(siti))
    assert r.status_code == 404
    assert r.json["code"] == "not_found"
    r = client.get(f"/api/v1/notifications?user_id={budi.id}", headers=token_for(siti))
    assert r.status_code == 403


def test_an_admin_may_look_at_a_users_failed_messages(client, db, make_user, token_for):
    admin, member = make_user(Role.admin), make_user(Role.member)
    notify(db, user_ids=[member.id], template="hold_expired", context=SLOT)
    r = client.get(f"/api/v1/notifications?user_id={member.id}", headers=token_for(admin))
    assert r.status_code == 200
    assert r.json["total"] == 1
    assert client.get("/api/v1/notifications", headers=token_for(admin)).json["total"] == 0


def test_notifications_need_a_signed_in_user(client):
    r = client.get("/api/v1/notifications")
    assert r.status_code == 401


def test_a_user_counts_its_unread_notifications_and_marks_one_read(
    client, db, make_user, token_for
):
    siti = make_user(Role.member)
    (first,) = notify(db, user_ids=[siti.id], template="hold_expired", context=SLOT)
    notify(db, user_ids=[siti.id], template="waitlist_slot_free", context=SLOT)
    headers = token_for(siti)
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json == {"unread": 2}

    r = client.post(f"/api/v1/notifications/{first.id}/read", headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["read"] is True and r.json["read_at"]
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json == {"unread": 1}
    # Marking it read again changes nothing.
    assert (
        client.post(f"/api/v1/notifications/{first.id}/read", headers=headers).json["read_at"]
        == r.json["read_at"]
    )
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).json
    assert [n["template"] for n in unread["items"]] == ["waitlist_slot_free"]


def test_a_user_marks_all_its_notifications_read_and_no_one_elses(client, db, make_user, token_for):
    siti, budi = make_user(Role.member), make_user(Role.member)
    notify(db, user_ids=[siti.id, budi.id], template="hold_expired", context=SLOT)
    notify(db, user_ids=[siti.id], template="waitlist_slot_free", context=SLOT)
    r = client.post("/api/v1/notifications/read-all", headers=token_for(siti))
    assert r.status_code == 200 and r.json == {"marked": 2}
    assert client.get("/api/v1/notifications/unread-count", headers=token_for(siti)).json == {
        "unread": 0
    }
    assert client.get("/api/v1/notifications/unread-count", headers=token_for(budi)).json == {
        "unread": 1
    }


def test_a_user_cannot_mark_another_users_notification_read(client, db, make_user, token_for):
    siti, budi, admin = make_user(Role.member), make_user(Role.member), make_user(Role.admin)
    [note] = notify(db, user_ids=[budi.id], template="hold_expired", context=SLOT)
    for intruder in (siti, admin):
        r = client.post(f"/api/v1/notifications/{note.id}/read", headers=token_for(intruder))
        assert r.status_code == 404
        assert r.json["code"] == "not_found"
    assert client.get("/api/v1/notifications/unread-count", headers=token_for(budi)).json == {
        "unread": 1
    }
