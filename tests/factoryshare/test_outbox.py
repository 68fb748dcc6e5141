"""The outbox is sent by the scheduled job send_outbox: each e-mail once, failures retried a
bounded number of times, a second run sends nothing new."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare.jobs.registry import INTERVALS, JOBS
from factoryshare.jobs.runner import run_job
from factoryshare.models.jobs import JobStatus
from factoryshare.models.notifications import Notification, NotificationStatus
from factoryshare.services import notifications
from factoryshare.services.notifications import MAX_ATTEMPTS, Email, notify, send_outbox

UTC = dt.UTC
# Later than any message the tests queue (queued messages are due from the moment they are made).
NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
SLOT = {
    "machine": "Mesin Jahit 3",
    "start": NOW + dt.timedelta(days=2),
    "end": NOW + dt.timedelta(days=2, hours=1),
    "timezone": "Asia/Jakarta",
}


class FakeTransport:
    """An SMTP server stand-in: records each e-mail; refuses the first `refuse` of them."""

    def __init__(self, refuse: int = 0, error: type[Exception] = ConnectionRefusedError):
        self.sent: list[Email] = []
        self.refuse = refuse
        self.error = error

    def __call__(self, email: Email) -> None:
        if self.refuse > 0:
            self.refuse -= 1
            raise self.error("mail server says no")
        self.sent.append(email)


@pytest.fixture()
def transport(monkeypatch):
    fake = FakeTransport()
    # What the scheduled job uses when nobody hands it a sender: the configured transport.
    monkeypatch.setattr(notifications, "sender_for", lambda settings: fake)
    return fake


def test_the_scheduler_runs_send_outbox_every_minute():
    assert "send_outbox" in JOBS and INTERVALS["send_outbox"] == 1


def test_the_job_sends_each_message_once_to_its_recipient_in_its_language(
    db, make_user, transport, tmp_path
):
    siti = make_user(language="id", email="siti@example.id")
    john = make_user(language="en", email="john@example.id")
    notify(db, user_ids=[siti.id, john.id], template="hold_expired", context=SLOT)

    first = run_job(db, "send_outbox", lock_dir=tmp_path, now=NOW)
    second = run_job(db, "send_outbox", lock_dir=tmp_path, now=NOW + dt.timedelta(hours=1))

    assert first.status is JobStatus.succeeded
    assert first.counts == {"sent": 2, "retrying": 0, "failed": 0}
    assert second.counts == {"sent": 0, "retrying": 0, "failed": 0}
    assert sorted((e.to, e.language) for e in transport.sent) == [
        ("john@example.id", "en"),
        ("siti@example.id", "id"),
    ]
    by_to = {e.to: e for e in transport.sent}
    assert by_to["siti@example.id"].subject.startswith("Slot dilepas")
    assert by_to["john@example.id"].subject.startswith("Slot released")
    statuses = set(db.scalars(select(Notification.status)))
    assert statuses == {NotificationStatus.sent}


def test_a_refused_message_is_retried_later_and_then_sent_once(db, make_user, tmp_path):
    user = make_user(email="budi@example.id")
    [note] = notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    transport = FakeTransport(refuse=1, error=RuntimeError)

    counts = send_outbox(db, NOW, sender=transport)
    assert counts.as_dict() == {"sent": 0, "retrying": 1, "failed": 0}
    assert note.attempts == 1 and "mail server says no" in note.last_error
    # Not due yet: a run before the back-off has passed tries nothing.
    assert send_outbox(db, NOW + dt.timedelta(seconds=5), sender=transport).sent == 0

    retry_at = note.next_attempt_at
    assert send_outbox(db, retry_at, sender=transport).sent == 1
    assert send_outbox(db, retry_at + dt.timedelta(days=1), sender=transport).sent == 0
    assert [e.to for e in transport.sent] == ["budi@example.id"]
    assert note.status is NotificationStatus.sent and note.attempts == 2


def test_a_message_that_keeps_failing_is_tried_a_bounded_number_of_times_then_kept_as_failed(
    db, make_user
):
    user = make_user()
    [note] = notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    transport = FakeTransport(refuse=10 * MAX_ATTEMPTS, error=RuntimeError)
    now = NOW
    for _ in range(MAX_ATTEMPTS + 3):
        send_outbox(db, now, sender=transport)
        now += notifications.MAX_RETRY
    assert note.status is NotificationStatus.failed
    assert note.attempts == MAX_ATTEMPTS
    assert transport.refuse == 10 * MAX_ATTEMPTS - MAX_ATTEMPTS  # never tried again after that
    assert note.body  # the message itself is kept, and still readable in the app


def test_when_the_mail_server_is_down_a_run_stops_after_one_attempt(db, make_user):
    user = make_user()
    notes = notify(db, user_ids=[user.id], template="hold_expired", context=SLOT)
    notes += notify(db, user_ids=[user.id], template="waitlist_slot_free", context=SLOT)
    transport = FakeTransport(refuse=5, error=ConnectionRefusedError)
    counts = send_outbox(db, NOW, sender=transport)
    assert counts.as_dict() == {"sent": 0, "retrying": 1, "failed": 0}
    assert sorted(n.attempts for n in notes) == [0, 1]  # the other one waits, untried
