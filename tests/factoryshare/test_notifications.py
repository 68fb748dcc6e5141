"""The notification outbox: messages in the recipient's language, stored once, never lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest
from sqlalchemy import select

from factoryshare import messages
from factoryshare.models.notifications import Notification, NotificationStatus
from factoryshare.services import notifications
from factoryshare.services.notifications import MAX_ATTEMPTS, notify, send_pending

UTC = dt.UTC
START = dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 09:00 WIB, 10:00 WITA, 11:00 WIT
END = dt.datetime(2026, 11, 24, 4, 0, tzinfo=UTC)

SLOT = {"machine": "Mesin Bordir 1", "start": START, "end": END, "timezone": "Asia/Jakarta"}

# One plausible context per template: every template must render in both languages.
SAMPLES = {
    "booking_confirmed": {**SLOT, "price": 1_500_000},
    "booking_held": {**SLOT, "price": 100_000, "expires_at": START - dt.timedelta(hours=12)},
    "booking_cancelled": {
        **SLOT,
        "reason": "permintaan anggota",
        "by": "Budi",
        "by_role": "manager",
    },
    "booking_rejected": {
        **SLOT,
        "reason": "mesin dipakai pelatihan",
        "by": "Budi",
        "by_role": "manager",
    },
    "booking_moved": {
        **SLOT,
        "old_start": START - dt.timedelta(days=1),
        "old_end": END - dt.timedelta(days=1),
        "old_machine": "Mesin Bordir 2",
        "by": "Budi",
        "by_role": "manager",
    },
    "request_placed": {
        "house": "RPB Garut",
        "product": "Dodol",
        "quantity": 200,
        "request": 7,
        "timezone": "Asia/Jakarta",
        "steps": [{"machine": "Mesin Bordir 1", "start": START, "end": END}],
    },
    "request_left_out": {"house": "RPB Garut", "product": "Dodol", "why": "deadline", "request": 7},
    "permit_rejected": {
        "product": "Dodol Garut",
        "permit": "SPP-IRT",
        "number": "P-IRT 123",
        "reason": "nomor tidak cocok dengan dokumen",
        "by": "Budi",
        "by_role": "manager",
    },
    "loan_submitted": {"cluster": "Klaster Bordir Garut", "amount": 250_000_000},
    "tranche_released": {
        "cluster": "Klaster Bordir Garut",
        "amount": 50_000_000,
        "disbursed_total": 50_000_000,
        "approved": 250_000_000,
        "on": dt.date(2026, 12, 1),
    },
    "hold_expired": SLOT,
    "booking_downtime": {
        **SLOT,
        "action": "cancelled",
        "reason": "jarum patah",
        "alternatives": [
            {"start": START + dt.timedelta(days=1), "end": END + dt.timedelta(days=1)}
        ],
    },
    "booking_calendar_change": {
        **SLOT,
        "change": "closure",
        "closure_start": dt.date(2026, 11, 24),
        "closure_end": dt.date(2026, 11, 25),
        "reason": "renovasi",
        "alternatives": [
            {"start": START + dt.timedelta(days=2), "end": END + dt.timedelta(days=2)}
        ],
    },
    "waitlist_slot_free": SLOT,
    "schedule_published": {"house": "RPB Garut", "start": START, "end": END, "count": 3},
    "loan_decision": {
        "cluster": "Klaster Bordir Garut",
        "decision": "approved",
        "amount": 250_000_000,
    },
    "installment_due": {
        "loan": "KUR-2026-001",
        "due_on": dt.date(2026, 12, 1),
        "amount": 1_521_097,
    },
    "installment_overdue": {
        "loan": "KUR-2026-001",
        "due_on": dt.date(2026, 12, 1),
        "amount": 1_521_097,
        "days_overdue": 5,
    },
    "unfunded_hold_released": SLOT,
    "permit_expiring": {
        "product": "Keripik Tempe",
        "permit": "PIRT",
        "number": "2063205010123-26",
        "expires_on": dt.date(2027, 2, 1),
        "days_left": 30,
    },
    "permit_booking_at_risk": {
        **SLOT,
        "product": "Keripik Tempe",
        "permit": "SPP-IRT",
        "expires_on": dt.date(2027, 2, 1),
    },
    "permit_loan_at_risk": {
        "cluster": "Klaster Kulit Garut",
        "loan": "#7",
        "product": "Dodol",
        "permit": "SPP-IRT",
        "expires_on": dt.date(2027, 2, 1),
    },
    "permit_needs_review": {"product": "Dodol Garut", "number": "ID32050000000000012"},
}


def settings_with_smtp(settings, **changes):
    return dataclasses.replace(settings, smtp_host="smtp.example.id", smtp_port=587, **changes)


class FakeSMTP:
    """Stands in for smtplib.SMTP: fails while `failures_left` > 0, records what it sends."""

    failures_left = 0
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        if FakeSMTP.failures_left > 0:
            FakeSMTP.failures_left -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        return self

    def __exit__(self, *exc):
        return False

    def ehlo(self):
        return (250, b"ok")

    def has_extn(self, name):
        return False

    def login(self, user, password):
        return (235, b"ok")

    def send_message(self, message):
        FakeSMTP.sent.append(message)


@pytest.fixture()
def fake_smtp(monkeypatch):
    FakeSMTP.failures_left = 0
    FakeSMTP.sent = []
    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    return FakeSMTP


def reload(session_factory, note_id):
    with session_factory() as s:
        return s.get(Notification, note_id)


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_template_reads_in_indonesian_and_in_english(template):
    id_subject, id_body = messages.render(template, "id", SAMPLES[template])
    en_subject, en_body = messages.render(template, "en", SAMPLES[template])
    assert id_subject and en_subject and id_subject != en_subject
    assert id_body.startswith("Halo") and en_body.startswith("Hello")


def test_the_templates_cover_every_message_the_other_areas_send():
    assert set(messages.TEMPLATES) == set(SAMPLES)


def test_a_message_is_written_in_the_recipients_language(db, make_user):
    siti = make_user(language="id", name="Siti")
    john = make_user(language="en", name="John")
    by_user = {
        n.user_id: n
        for n in notify(
            db,
            user_ids=[siti.id, john.id],
            template="booking_confirmed",
            context=SAMPLES["booking_confirmed"],
        )
    }
    assert by_user[siti.id].language == "id"
    assert "sudah dikonfirmasi" in by_user[siti.id].body
    assert by_user[siti.id].body.startswith("Halo Siti,")
    assert by_user[john.id].language == "en"
    assert "is confirmed" in by_user[john.id].body
    assert by_user[john.id].body.startswith("Hello John,")


def test_amounts_read_as_rupiah_without_decimals_and_times_in_the_houses_zone(db, make_user):
    user = make_user(language="en")
    [note] = notify(
        db,
        user_ids=[user.id],
        template="booking_confirmed",
        context={**SAMPLES["booking_confirmed"], "timezone": "Asia/Makassar"},
    )
    assert "Rp1.500.000." in note.body
    assert "Tuesday 24 November 2026 10:00–12:00 WITA" in note.subject


@pytest.mark.parametrize(
    "zone, label",
    [
        ("Asia/Jakarta", "09:00–11:00 WIB"),
        ("Asia/Pontianak", "09:00–11:00 WIB"),
        ("Asia/Makassar", "10:00–12:00 WITA"),
        ("Asia/Jayapura", "11:00–13:00 WIT"),
    ],
)
def test_times_carry_the_indonesian_zone_name(zone, label):
    subject, _ = messages.render("waitlist_slot_free", "id", {**SLOT, "timezone": zone})
    assert label in subject


def test_a_downtime_message_offers_at_most_three_alternative_slots(db, make_user):
    user = make_user(language="id")
    alternatives = [
        {"start": START + dt.timedelta(days=d), "end": END + dt.timedelta(days=d)}
        for d in range(1, 6)
    ]
    [note] = notify(
        db,
        user_ids=[user.id],
        template="booking_downtime",
        context={**SLOT, "action": "kept", "alternatives": alternatives},
    )
    assert "Pemesanan Anda tetap tercatat" in note.body
    assert note.body.count("\n- Mesin Bordir 1: ") == 3
    assert "Rabu, 25 November 2026 09:00–11:00 WIB" in note.body


def test_the_same_key_notifies_a_user_only_once(db, make_user):
    siti, budi = make_user(), make_user()
    first = notify(db, user_ids=[siti.id], template="hold_expired", context=SLOT, key="hold:7")
    again = notify(
        db, user_ids=[siti.id, budi.id], template="hold_expired", context=SLOT, key="hold:7"
    )
    stored = db.scalars(select(Notification).where(Notification.key == "hold:7")).all()
    assert sorted(n.user_id for n in stored) == sorted([siti.id, budi.id])
    assert [n.id for n in again if n.user_id == siti.id] == [first[0].id]


def test_an_unknown_template_is_refused(db, make_user):
    user = make_user()
    with pytest.raises(LookupError):
        notify(db, user_ids=[user.id], template="booking_exploded", context=SLOT)


def test_a_context_missing_what_the_template_needs_is_refused(db, make_user):
    user = make_user()
    with pytest.raises(ValueError, match="machine"):
        notify(
            db,
            user_ids=[user.id],
            template="booking_confirmed",
            context={"start": START, "end": END},
        )


def test_the_context_is_stored_as_json_ready_data(db, make_user):
    user = make_user()
    [note] = notify(
        db, user_ids=[user.id], template="booking_confirmed", context=SAMPLES["booking_confirmed"]
    )
    db.expire_all()
    stored = db.get(Notification, note.id)
    assert stored.context["start"] == "2026-11-24T02:00:00+00:00"
    assert stored.context["price"] == 1_500_000


def test_without_smtp_messages_go_to_the_log_and_count_as_sent(
    db, session_factory, settings, make_user, caplog
):
    user = make_user(language="id")
    [note] = notify(db, user_ids=[user.id], template="waitlist_slot_free", context=SLOT)
    db.commit()
    with caplog.at_level(logging.INFO, logger="factoryshare.services.notifications"):
        counts = send_pending(session_factory, settings)
    assert counts.sent == 1
    assert "Slot yang Anda tunggu kosong" in caplog.text
    stored = reload(session_factory, note.id)
    assert stored.status is NotificationStatus.sent
    assert stored.sent_at is not None


def test_a_message_whose_first_delivery_fails_is_sent_at_a_later_attempt(
    clock, db, session_factory, settings, make_user, fake_smtp
):
    user = make_user(language="en", email="john@example.id")
    [note] = notify(
        db, user_ids=[user.id], template="booking_cancelled", context=SAMPLES["booking_cancelled"]
    )
    db.commit()
    smtp = settings_with_smtp(settings)
    now = clock.now()
    fake_smtp.failures_left = 1

    counts = send_pending(session_factory, smtp, now=now)
    assert (counts.sent, counts.retrying) == (0, 1)
    stored = reload(session_factory, note.id)
    assert stored.status is NotificationStatus.pending
    assert stored.attempts == 1
    assert "Connection refused" in stored.last_error
    assert stored.next_attempt_at > now

    # Not due yet: nothing is tried again before the back-off has passed.
    assert send_pending(session_factory, smtp, now=now + dt.timedelta(seconds=1)).sent == 0
    assert fake_smtp.sent == []

    counts = send_pending(session_factory, smtp, now=stored.next_attempt_at)
    assert counts.sent == 1
    stored = reload(session_factory, note.id)
    assert stored.status is NotificationStatus.sent
    assert stored.attempts == 2
    [message] = fake_smtp.sent
    assert message["To"] == "john@example.id"
    assert message["Subject"].startswith("Booking cancelled")
    assert "has been cancelled" in message.get_content()


def test_the_wait_between_attempts_doubles(
    clock, db, session_factory, settings, make_user, fake_smtp
):
    user = make_user()
    [note] = notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    db.commit()
    smtp = settings_with_smtp(settings)
    fake_smtp.failures_left = 3
    now = clock.now()
    waits = []
    for _ in range(3):
        send_pending(session_factory, smtp, now=now)
        due = reload(session_factory, note.id).next_attempt_at
        waits.append(due - now)
        now = due
    assert waits[1] == 2 * waits[0] and waits[2] == 2 * waits[1]


def test_a_message_that_never_gets_through_is_kept_as_failed_with_its_error(
    clock, db, session_factory, settings, make_user, fake_smtp
):
    user = make_user()
    [note] = notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    db.commit()
    smtp = settings_with_smtp(settings)
    fake_smtp.failures_left = MAX_ATTEMPTS + 5
    now = clock.now()
    for _ in range(MAX_ATTEMPTS + 2):
        send_pending(session_factory, smtp, now=now)
        now += notifications.MAX_RETRY
    stored = reload(session_factory, note.id)
    assert stored.status is NotificationStatus.failed
    assert stored.attempts == MAX_ATTEMPTS
    assert "Connection refused" in stored.last_error
    assert stored.body  # the message itself is still there
    assert fake_smtp.sent == []


def test_a_sent_message_is_not_sent_twice(
    clock, db, session_factory, settings, make_user, fake_smtp
):
    user = make_user()
    notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    db.commit()
    smtp = settings_with_smtp(settings)
    later = clock.now() + dt.timedelta(days=1)
    send_pending(session_factory, smtp, now=later)
    send_pending(session_factory, smtp, now=later + dt.timedelta(days=1))
    assert len(fake_smtp.sent) == 1


def test_the_send_command_delivers_the_outbox(
    db, session_factory, settings, make_user, monkeypatch
):
    from click.testing import CliRunner

    from factoryshare.cli import Context, cli

    user = make_user()
    notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    db.commit()
    monkeypatch.setattr(Context, "session_factory", property(lambda self: session_factory))
    monkeypatch.setattr(Context, "settings", property(lambda self: settings))
    result = CliRunner().invoke(cli, ["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1," in result.output
