"""The admin's pages through Flask's test client: houses, users (deactivating one), job runs
and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from factoryshare.models import AuditEvent, Role
from factoryshare.models.jobs import JobRun, JobStatus
from tests.web.helpers import csrf, sign_in


def _admin(make_user):  # type: ignore[no-untyped-def]
    return make_user(Role.admin, language="en", name="Admin Pusat")


def test_an_admin_sees_a_house_with_its_zone_opening_hours_and_machines(
    client, make_user, make_house, make_machine
):
    house = make_house(name="RPB Jembrana", timezone="Asia/Makassar")
    make_machine(house=house, name="Mesin Sangrai Kakao", hourly_rate=75_000)
    make_machine(house=house, name="Vacuum Fryer")
    sign_in(client, _admin(make_user))

    listing = client.get("/admin/houses").get_data(as_text=True)
    assert "RPB Jembrana" in listing and "WITA" in listing
    assert f'href="/admin/houses/{house.id}"' in listing
    page = client.get(f"/admin/houses/{house.id}").get_data(as_text=True)
    assert "WITA (Asia/Makassar)" in page
    assert "Monday" in page and "08:00–17:00" in page and "Sunday" in page
    assert "Mesin Sangrai Kakao" in page and "Rp75.000" in page
    assert "<dd>2</dd>" in page  # machines counted


def test_an_admin_filters_users_by_role_and_deactivates_one_who_then_cannot_sign_in(
    client, db, make_user
):
    admin = _admin(make_user)
    manager = make_user(Role.manager, name="Manajer Garut")
    member = make_user(Role.member, name="Asep Sukaregang")
    sign_in(client, admin)

    everyone = client.get("/admin/users").get_data(as_text=True)
    assert manager.email in everyone and member.email in everyone
    managers = client.get("/admin/users?role=manager").get_data(as_text=True)
    assert manager.email in managers and member.email not in managers
    assert '<label for="role">' in managers

    token = csrf(client, "/admin/users")
    r = client.post(
        f"/admin/users/{member.id}/active",
        data={"csrf_token": token, "active": "0", "role": "member"},
    )
    assert r.status_code == 302 and "role=member" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"{member.email} is deactivated and can no longer sign in." in page
    db.refresh(member)
    assert member.is_active is False
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "users", AuditEvent.object_id == str(member.id)
        )
    ).one()
    assert event.actor_id == admin.id and event.after["is_active"] is False

    client.post("/logout", data={"csrf_token": token})
    r = sign_in(client, member)
    assert r.status_code == 401


def test_deactivating_needs_the_forms_csrf_token_and_an_admin(client, db, make_user):
    member = make_user(Role.member)
    sign_in(client, _admin(make_user))
    assert client.post(f"/admin/users/{member.id}/active", data={"active": "0"}).status_code == 400
    db.refresh(member)
    assert member.is_active is True

    token = csrf(client, "/admin/users")
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, make_user(Role.manager))
    token = csrf(client, "/home")
    r = client.post(f"/admin/users/{member.id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 403
    assert client.get("/admin/users").status_code == 403
    db.refresh(member)
    assert member.is_active is True


def test_an_admin_cannot_deactivate_their_own_account(client, db, make_user):
    admin = _admin(make_user)
    sign_in(client, admin)
    token = csrf(client, "/admin/users")
    r = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": token, "active": "0"})
    assert "You cannot deactivate your own account." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    db.refresh(admin)
    assert admin.is_active is True


def test_the_job_runs_page_shows_the_latest_run_of_each_job_with_its_message(client, db, make_user):
    started = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    db.add_all(
        [
            JobRun(
                job="expire_holds",
                started_at=started,
                finished_at=started + dt.timedelta(seconds=2),
                status=JobStatus.succeeded,
                counts={"expired": 3},
                host="web-1",
            ),
            JobRun(
                job="permit_watch",
                started_at=started + dt.timedelta(hours=1),
                finished_at=started + dt.timedelta(hours=1, seconds=1),
                status=JobStatus.failed,
                counts={},
                error="OperationalError: database is locked",
                host="web-2",
            ),
        ]
    )
    db.flush()
    sign_in(client, _admin(make_user))
    page = client.get("/admin/jobs").get_data(as_text=True)
    latest = page[: page.index("Recent runs")]
    assert "expire_holds" in latest and "expired: 3" in latest and "succeeded" in latest
    assert "OperationalError: database is locked" in latest and "failed" in latest
    assert "link_financing" in latest and "Not run yet" in latest
    assert "Fri 20 Nov 2026 03:00:00 UTC" in latest


def test_the_audit_log_lists_entries_newest_first_in_words_and_filters_by_action_and_actor(
    client, db, make_user
):
    admin = _admin(make_user)
    sign_in(client, admin)
    older, newer = make_user(Role.member), make_user(Role.member)
    token = csrf(client, "/admin/users")
    for user in (older, newer):
        client.post(f"/admin/users/{user.id}/active", data={"csrf_token": token, "active": "0"})
    db.add(
        AuditEvent(
            at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            actor_id=None,
            action="loan_application.approved",
            object_type="loan_applications",
            object_id="7",
            before=None,
            after={"status": "approved"},
        )
    )
    db.flush()

    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index(f"user account #{newer.id}") < page.index(f"user account #{older.id}")
    assert admin.email in page and "the system" in page
    # The actions in words, the stored code kept as the link's title.
    assert ">User account changed</a>" in page and ">Loan application approved</a>" in page
    assert 'title="loan_application.approved"' in page

    by_action = client.get("/admin/audit?action=loan_application.approved").get_data(as_text=True)
    assert "loan application #7" in by_action and f"user account #{newer.id}" not in by_action
    by_actor = client.get(f"/admin/audit?actor={admin.email}").get_data(as_text=True)
    assert f"user account #{newer.id}" in by_actor and "loan application #7" not in by_actor
    nobody = client.get("/admin/audit?actor=nobody@example.id").get_data(as_text=True)
    assert "No user has the e-mail nobody@example.id." in nobody


def test_the_audit_log_is_paged(client, db, make_user):
    admin = _admin(make_user)
    db.add_all(
        [
            AuditEvent(
                at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
                actor_id=admin.id,
                action="test.paged",
                object_type="things",
                object_id=str(i),
                before=None,
                after=None,
            )
            for i in range(30)
        ]
    )
    db.flush()
    sign_in(client, admin)
    first = client.get("/admin/audit?action=test.paged").get_data(as_text=True)
    assert "things #29" in first and "things #5" in first and "things #4" not in first
    assert "Page 1 of 2 (30 in all)" in first
    second = client.get("/admin/audit?action=test.paged&page=2").get_data(as_text=True)
    assert "things #4" in second and "things #0" in second and "things #29" not in second


def test_the_admin_pages_are_for_admins_only(client, make_user):
    sign_in(client, make_user(Role.aggregator))
    for url in ("/admin/houses", "/admin/users", "/admin/jobs", "/admin/audit"):
        assert client.get(url).status_code == 403, url
