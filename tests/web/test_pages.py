"""The browser pages through Flask's test client: signing in, the language, a member booking."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import bookings as booking_service
from tests.web.helpers import csrf, next_working_day, sign_in

JAKARTA = ZoneInfo("Asia/Jakarta")


def _member_with_machine(make_user, make_member, make_machine, make_house, **house):  # type: ignore[no-untyped-def]
    home = make_house(**house)
    machine = make_machine(
        house=home, name="Mesin Jahit Juki", hourly_rate=150_000, capabilities=["sewing"]
    )
    user = make_user(Role.member, member=make_member(house_id=home.id))
    return user, machine


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=JAKARTA).astimezone(dt.UTC)


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_back_after_signing_in(
    client, make_user, make_member, make_machine, make_house
):
    user, _machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    r = client.get("/bookings")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/bookings")
    r = sign_in(client, user, next="/bookings")
    assert r.status_code == 302 and r.headers["Location"] == "/bookings"


def test_the_login_page_is_in_indonesian_by_default_and_lists_no_missing_demo_accounts(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="id">' in page
    assert "Masuk" in page and "Kata sandi" in page
    assert '<label for="email">' in page and '<label for="password">' in page
    assert "Akun demo" not in page


def test_a_wrong_password_is_refused_in_words(client, make_user):
    user = make_user(Role.member)
    r = sign_in(client, user, password="not-the-password")
    assert r.status_code == 401
    assert "Surel atau kata sandi salah." in r.get_data(as_text=True)
    assert client.get("/bookings").status_code == 302


def test_a_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user(Role.member, is_active=False)
    r = sign_in(client, user)
    assert r.status_code == 401
    assert "Akun ini telah dinonaktifkan." in r.get_data(as_text=True)


def test_a_user_deactivated_while_signed_in_is_signed_out_on_the_next_page(
    client, db, make_user, make_member, make_machine, make_house
):
    user, _machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    assert client.get("/bookings").status_code == 200
    user.is_active = False
    db.flush()
    assert client.get("/bookings").status_code == 302


def test_a_form_posted_without_its_csrf_token_is_refused(client, make_user):
    user = make_user(Role.member)
    r = client.post("/login", data={"email": user.email, "password": "x"})
    assert r.status_code == 400
    assert "kedaluwarsa" in r.get_data(as_text=True)


def test_signing_in_never_redirects_to_another_site(client, make_user):
    user = make_user(Role.manager)
    r = sign_in(client, user, next="//evil.example/")
    assert (
        r.status_code == 302 and r.headers["Location"] == "/manager"
    )  # the manager home, never the other site


def test_signing_out_ends_the_session(client, make_user):
    user = make_user(Role.manager)
    sign_in(client, user)
    assert client.get("/home").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    assert client.get("/home").status_code == 302


def test_a_manager_may_not_open_the_member_slot_finder(client, make_user):
    sign_in(client, make_user(Role.manager))
    r = client.get("/slots")
    assert r.status_code == 403
    assert "Peran Anda tidak boleh membuka halaman ini." in r.get_data(as_text=True)


def test_the_language_switch_changes_the_texts_and_is_remembered_for_the_user(
    client, db, make_user, make_member, make_machine, make_house
):
    user, _machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    assert "Pemesanan saya" in client.get("/bookings").get_data(as_text=True)
    r = client.post(
        "/language",
        data={"lang": "en", "next": "/bookings", "csrf_token": csrf(client, "/bookings")},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/bookings"
    page = client.get("/bookings").get_data(as_text=True)
    assert '<html lang="en">' in page and "My bookings" in page
    db.refresh(user)
    assert user.language == "en"


def test_a_member_finds_free_slots_with_prices_in_rupiah_and_times_in_wib(
    client, make_user, make_member, make_machine, make_house
):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    day = next_working_day()
    page = client.get(f"/slots?capability=sewing&day={day.isoformat()}&duration=120")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mesin Jahit Juki" in text
    assert "08:00–10:00" in text and "Rp300.000" in text
    assert "WIB" in text


def test_a_member_books_a_slot_in_one_tap_and_sees_it_in_the_list(
    client, db, make_user, make_member, make_machine, make_house
):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    sign_in(client, user)
    day = next_working_day()
    start, end = _at(day, 9), _at(day, 11)
    r = client.post(
        "/bookings",
        data={
            "machine_id": machine.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "csrf_token": csrf(client, "/slots"),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/bookings"
    page = client.get("/bookings").get_data(as_text=True)
    assert "Dipesan: Mesin Jahit Juki" in page
    assert "09:00 WIB" in page and "Rp300.000" in page
    booking = db.query(Booking).filter_by(machine_id=machine.id).one()
    assert booking.member_id == user.member_id and booking.status is BookingStatus.confirmed


def test_a_slot_taken_meanwhile_is_refused_in_words_and_nothing_is_booked(
    client, db, make_user, make_member, make_machine, make_house
):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    rival = make_user(Role.member, member=make_member(house_id=machine.house_id))
    day = next_working_day()
    start, end = _at(day, 9), _at(day, 11)
    booking_service.create_booking(db, Actor.of(rival), machine_id=machine.id, start=start, end=end)
    sign_in(client, user)
    r = client.post(
        "/bookings",
        data={
            "machine_id": machine.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "capability": "sewing",
            "day": day.isoformat(),
            "duration": "120",
            "csrf_token": csrf(client, "/slots"),
        },
    )
    assert r.status_code == 302 and "/slots?" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Mesin ini baru saja dipesan orang lain pada waktu itu." in page
    assert db.query(Booking).filter_by(member_id=user.member_id).count() == 0


def test_a_member_cancels_a_booking(client, db, make_user, make_member, make_machine, make_house):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    day = next_working_day()
    booking = booking_service.create_booking(
        db, Actor.of(user), machine_id=machine.id, start=_at(day, 9), end=_at(day, 10)
    )
    sign_in(client, user)
    r = client.post(
        f"/bookings/{booking.id}/cancel", data={"csrf_token": csrf(client, "/bookings")}
    )
    assert r.status_code == 302
    assert "Pemesanan dibatalkan." in client.get("/bookings").get_data(as_text=True)
    db.refresh(booking)
    assert booking.status is BookingStatus.cancelled


def test_a_member_moves_a_booking_to_a_free_slot_and_the_price_follows(
    client, db, make_user, make_member, make_machine, make_house
):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    day = next_working_day()
    booking = booking_service.create_booking(
        db, Actor.of(user), machine_id=machine.id, start=_at(day, 9), end=_at(day, 10)
    )
    sign_in(client, user)
    page = client.get(f"/bookings/{booking.id}/move").get_data(as_text=True)
    assert "14:00–15:00" in page
    r = client.post(
        f"/bookings/{booking.id}/move",
        data={
            "start": _at(day, 14).isoformat(),
            "end": _at(day, 15).isoformat(),
            "csrf_token": csrf(client, "/bookings"),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/bookings"
    db.refresh(booking)
    assert booking.start_at == _at(day, 14) and booking.price == 150_000


def test_another_members_booking_is_not_found_on_the_move_page(
    client, db, make_user, make_member, make_machine, make_house
):
    user, machine = _member_with_machine(make_user, make_member, make_machine, make_house)
    other = make_user(Role.member, member=make_member(house_id=machine.house_id))
    day = next_working_day()
    booking = booking_service.create_booking(
        db, Actor.of(other), machine_id=machine.id, start=_at(day, 9), end=_at(day, 10)
    )
    sign_in(client, user)
    assert client.get(f"/bookings/{booking.id}/move").status_code == 404


def test_the_pages_show_rupiah_as_indonesians_write_them():
    from api.web import rupiah

    assert rupiah(1_500_000) == "Rp1.500.000"
    assert rupiah(0) == "Rp0"


# --- the shared filters: numbers, durations and words in the page's language ------------------


def _render(app, source: str, lang: str, **values) -> str:  # type: ignore[no-untyped-def]
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(lang):
        return app.jinja_env.from_string(source).render(**values)


def test_a_duration_reads_in_hours_and_minutes_in_the_pages_language(app):
    source = "{{ 135|duration }} / {{ 120|duration }} / {{ 45|duration }} / {{ -90|duration }}"
    assert _render(app, source, "id") == "2 jam 15 menit / 2 jam / 45 menit / -1 jam 30 menit"
    assert _render(app, source, "en") == "2 h 15 min / 2 h / 45 min / -1 h 30 min"


def test_decimal_numbers_have_a_decimal_comma_in_indonesian_and_a_point_in_english(app):
    source = "{{ 1234.5|number }} | {{ 2|number(1) }} | {{ 0.875|percent(1) }}"
    assert _render(app, source, "id") == "1.234,5 | 2,0 | 87,5%"
    assert _render(app, source, "en") == "1,234.5 | 2.0 | 87.5%"


def test_statuses_and_roles_read_as_words_in_the_pages_language(app):
    from factoryshare.models.scheduling import RunStatus

    values = {"held": BookingStatus.held, "run": RunStatus.succeeded, "role": Role.manager}
    source = (
        "{{ held|status_label }} | {{ run|status_label }} | {{ role|role_label }} | "
        "{{ 'no_show'|status_label }}"
    )
    assert _render(app, source, "id", **values) == "ditahan | siap ditinjau | manajer | tidak hadir"
    assert _render(app, source, "en", **values) == "held | ready to review | manager | no-show"


def test_audit_actions_read_as_a_sentence_in_the_pages_language(app):
    source = (
        "{{ 'booking.cancelled'|audit_words }} | {{ 'updated'|audit_words('users') }} | "
        "{{ 'schedule_run.published'|audit_words }}"
    )
    assert _render(app, source, "id") == (
        "Pemesanan dibatalkan | Akun pengguna diubah | Penjadwalan diterbitkan"
    )
    assert _render(app, source, "en") == (
        "Booking cancelled | User account changed | Schedule run published"
    )


def test_a_holiday_and_a_capability_are_named_in_the_pages_language(app, make_capability):
    sewing = make_capability(code="vacuum_frying", name="Penggorengan vakum")
    independence = dt.date(2026, 8, 17)
    source = "{{ day|holiday }} | {{ cap|capability_name }}"
    indonesian = _render(app, source, "id", day=independence, cap=sewing)
    english = _render(app, source, "en", day=independence, cap=sewing)
    assert indonesian == "Hari Kemerdekaan Republik Indonesia | Penggorengan vakum"
    assert english == "Independence Day | Vacuum frying"


def test_every_roles_menu_starts_with_home_and_keeps_one_order(app, make_user):
    import re as _re

    menus = {}
    for role in Role:
        user = make_user(role)
        client = app.test_client()
        assert sign_in(client, user).status_code == 302
        page = client.get("/home").get_data(as_text=True)
        nav = page[page.index('<nav aria-label="Menu utama">') : page.index("</nav>")]
        menus[role] = _re.findall(r'<a href="([^"]+)"', nav)
    for role, links in menus.items():
        assert links[0] == "/home", (role, links)
        assert len(links) == len(set(links)) > 1, (role, links)
