"""A member's inbox: the messages the service sent it, newest first, the unread count in the
menu, and marking them read."""

from __future__ import annotations

import datetime as dt

from factoryshare import clock as product_clock
from factoryshare.models import Role
from factoryshare.models.notifications import Notification
from tests.web.helpers import csrf, sign_in


def _note(db, user, subject, minutes_ago=0, read=False):  # type: ignore[no-untyped-def]
    now = product_clock.now()
    note = Notification(
        user_id=user.id,
        template="booking_confirmed",
        language="id",
        subject=subject,
        body=f"Isi: {subject}",
        context={},
        created_at=now - dt.timedelta(minutes=minutes_ago),
        read_at=now if read else None,
    )
    db.add(note)
    db.flush()
    return note


def test_the_inbox_lists_the_members_messages_newest_first_and_the_menu_counts_the_unread(
    client, db, make_user
):
    user = make_user(Role.member)
    other = make_user(Role.member)
    _note(db, user, "Pemesanan dikonfirmasi", minutes_ago=5)
    _note(db, user, "Jadwal diterbitkan", minutes_ago=1)
    _note(db, user, "Sudah lama", minutes_ago=60, read=True)
    _note(db, other, "Pesan orang lain")
    sign_in(client, user)
    page = client.get("/inbox").get_data(as_text=True)
    assert (
        page.index("Jadwal diterbitkan")
        < page.index("Pemesanan dikonfirmasi")
        < page.index("Sudah lama")
    )
    assert "Pesan orang lain" not in page
    assert "2 pesan belum dibaca" in page
    menu = client.get("/bookings").get_data(as_text=True).split("</nav>", 1)[0]
    assert 'Kotak masuk <span class="badge count">2<span class="sr"> ' in menu


def test_marking_one_read_and_then_all_read_clears_the_count(client, db, make_user):
    user = make_user(Role.member)
    first = _note(db, user, "Satu")
    _note(db, user, "Dua")
    sign_in(client, user)
    token = csrf(client, "/inbox")
    client.post(f"/inbox/{first.id}/read", data={"csrf_token": token})
    db.refresh(first)
    assert first.read_at is not None
    assert "1 pesan belum dibaca" in client.get("/inbox").get_data(as_text=True)
    client.post("/inbox/read-all", data={"csrf_token": token})
    page = client.get("/inbox").get_data(as_text=True)
    assert "Semua sudah dibaca." in page and 'class="badge count"' not in page


def test_another_users_message_cannot_be_marked_read(client, db, make_user):
    user = make_user(Role.member)
    foreign = _note(db, make_user(Role.member), "Bukan milik Anda")
    sign_in(client, user)
    client.post(f"/inbox/{foreign.id}/read", data={"csrf_token": csrf(client, "/inbox")})
    db.refresh(foreign)
    assert foreign.read_at is None
