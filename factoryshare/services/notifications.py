"""Notifications: what a user reads in the app, and the outbox of e-mails sent from it.

`notify` renders a message per recipient, in the recipient's language, and stores it in the
caller's transaction: a message exists exactly when the change it reports was committed.
The recipient lists it (`list_notifications`), counts its unread ones and marks them read.

Every message is also an e-mail in the outbox. The scheduled job `send_outbox` (and
`factoryshare notifications send`) delivers due messages through a sender: SMTP when
`SMTP_HOST` is set, the log otherwise, or any function handed in (tests). Each message is
locked while it is sent (PostgreSQL: `FOR UPDATE SKIP LOCKED`; the job's own lock keeps two
jobs apart), so it is sent once; a failed delivery keeps the message, counts the attempt,
stores the error and retries later with exponential back-off; after `MAX_ATTEMPTS` the
message is kept as `failed`. When the mail server cannot be reached at all, the run stops
after that message instead of waiting for the server once per message. Nothing is deleted.

One change, one message: within one transaction, a booking's member hears of it once. The
generic message of a cancellation or a move (the events' subscribers pass `generic=True`)
gives way to the specific one of the same booking (a downtime with its alternative slots, a
rejection with its reason, a hold that ran out), whichever is queued first.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from factoryshare import messages
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.access.notifications import addressed_to
from factoryshare.config import Settings
from factoryshare.db import transaction, utcnow
from factoryshare.errors import Forbidden, NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import User
from factoryshare.models.notifications import Notification, NotificationStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

log = logging.getLogger(__name__)

# A message is tried this many times before it is kept as failed.
MAX_ATTEMPTS = 8
# Back-off after the n-th failed attempt: FIRST_RETRY * 2**(n-1), at most MAX_RETRY.
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=6)
SMTP_TIMEOUT_SECONDS = 30
# Messages one run of the send_outbox job sends at most (the next run takes the rest).
OUTBOX_BATCH = 50


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    template: str,
    context: dict[str, Any],
    key: str | None = None,
    generic: bool = False,
) -> list[Notification]:
    """Queue `template` for each user, rendered in the user's language.

    With a `key`, a user who already has a message with that key gets no second one (the
    existing message is returned instead), so a retried job or request notifies once.

    A message about one booking (`booking_id` in the context) is the only one its user gets
    about that booking in this transaction: a `generic` one is dropped when another message
    about the booking was queued already, and a later specific one takes its place.
    """
    messages.template_for(template)  # unknown template: LookupError before anything else
    wanted = list(dict.fromkeys(int(u) for u in user_ids))
    if not wanted:
        return []
    about = context.get("booking_id")
    told: dict[tuple[int, int], tuple[Notification, bool]] = (
        session.info.setdefault(_TOLD, {}) if about is not None else {}
    )
    if about is not None:
        about = int(about)
        if generic:
            wanted = [u for u in wanted if (u, about) not in told]
            if not wanted:
                return []
        else:
            for user_id in wanted:
                earlier = told.get((user_id, about))
                if earlier is not None and earlier[1] and earlier[0].sent_at is None:
                    session.delete(earlier[0])
                    del told[(user_id, about)]
            session.flush()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
    unknown = [u for u in wanted if u not in users]
    if unknown:
        raise ValueError(f"cannot notify unknown users {unknown}")
    stored = _existing(session, wanted, key) if key is not None else {}
    result: list[Notification] = []
    for user_id in wanted:
        if user_id in stored:
            result.append(stored[user_id])
            continue
        user = users[user_id]
        render_context = {**context, "recipient": user.name}
        subject, body = messages.render(template, user.language, render_context)
        note = Notification(
            user_id=user_id,
            template=template,
            language=user.language,
            subject=subject[:300],
            body=body,
            context=messages.to_json(context),
            key=key,
            status=NotificationStatus.pending,
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        if key is None:
            session.add(note)
            session.flush()
        else:
            # Another transaction may have stored the same key meanwhile: keep theirs.
            try:
                with session.begin_nested():
                    session.add(note)
            except IntegrityError:
                note = _existing(session, [user_id], key)[user_id]
        result.append(note)
        if about is not None:
            told[(user_id, about)] = (note, generic)
    return result


# What this session's transaction told whom about which booking (see `notify`).
_TOLD = "factoryshare.notifications.told"


@event.listens_for(Session, "after_transaction_end")
def _forget_told(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TOLD, None)


def _existing(session: Session, user_ids: list[int], key: str) -> dict[int, Notification]:
    rows = session.scalars(
        select(Notification).where(Notification.key == key, Notification.user_id.in_(user_ids))
    )
    return {n.user_id: n for n in rows}


def list_notifications(
    session: Session,
    actor: Actor,
    *,
    user_id: int | None = None,
    status: str | None = None,
    unread: bool | None = None,
) -> Select[Any]:
    """The caller's messages, newest first; an admin may look at another user's.

    `status` is the e-mail's (pending, sent, failed); `unread` filters on the app's read mark.
    """
    target = actor.user_id if user_id is None else user_id
    if target != actor.user_id and not actor.is_admin:
        raise Forbidden(N_("You may only read your own notifications."))
    stmt = scoped(actor, Notification).where(Notification.user_id == target)
    if unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    if status is not None:
        try:
            wanted = NotificationStatus(status)
        except ValueError:
            raise ValidationFailed(
                N_("Unknown status."),
                errors={
                    "status": [
                        N_(
                            "Use one of: %(value)s.",
                            value=", ".join(s.value for s in NotificationStatus),
                        )
                    ]
                },
            ) from None
        stmt = stmt.where(Notification.status == wanted)
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def get_notification(session: Session, actor: Actor, notification_id: int) -> Notification:
    return get_scoped(session, actor, Notification, notification_id)


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the caller's messages it has not marked read."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(addressed_to(actor), Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    session: Session, actor: Actor, notification_id: int, now: dt.datetime | None = None
) -> Notification:
    """The caller marks one of its own messages read (again: no change). Only the recipient
    may: another user's message is not found, an admin's look does not mark it read.

    Not audited: a read mark is the recipient's own bookkeeping, not a change of the service.
    """
    if actor.user_id is None or not isinstance(notification_id, int) or notification_id <= 0:
        raise NotFound(
            N_("Notification %(notification_id)s was not found.", notification_id=notification_id)
        )
    note = session.scalars(
        select(Notification).where(Notification.id == notification_id, addressed_to(actor))
    ).first()
    if note is None:
        raise NotFound(
            N_("Notification %(notification_id)s was not found.", notification_id=notification_id)
        )
    if note.read_at is None:
        note.read_at = now or utcnow()
        session.flush()
    return note


def mark_all_read(session: Session, actor: Actor, now: dt.datetime | None = None) -> int:
    """The caller marks every unread message of its own read; returns how many."""
    if actor.user_id is None:
        return 0
    result = session.execute(
        update(Notification)
        .where(addressed_to(actor), Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(cast("CursorResult[Any]", result).rowcount or 0)


# -- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Email:
    """One message as it leaves the service."""

    to: str
    subject: str
    body: str
    language: str


# Delivers one e-mail or raises. One of _UNREACHABLE ends the run: the server is not there.
Sender = Callable[[Email], None]
_UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


@dataclass(frozen=True)
class SendCounts:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def _due(now: dt.datetime) -> Any:
    return (Notification.status == NotificationStatus.pending) & or_(
        Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now
    )


def sender_for(settings: Settings) -> Sender:
    """SMTP when `SMTP_HOST` is set, otherwise the log."""
    if not settings.smtp_host:
        return _log_sender

    def send(email: Email) -> None:
        _smtp_send(settings, email)

    return send


def send_outbox(
    session: Session,
    now: dt.datetime | None = None,
    *,
    sender: Sender | None = None,
    limit: int = OUTBOX_BATCH,
) -> SendCounts:
    """Deliver up to `limit` due messages in `session`'s transaction (the job's); return how
    many were sent, will be retried, failed for good.

    Each message is locked and read again before it is sent, so one that another sender took
    or finished meanwhile is skipped. Without a `sender`, the configured one (`sender_for`).
    """
    now = now or utcnow()
    if sender is None:
        sender = sender_for(Settings.from_env())
    ids = list(
        session.scalars(
            select(Notification.id)
            .where(_due(now))
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
    )
    sent = retrying = failed = 0
    for note_id in ids:
        with session.begin_nested():
            note = session.scalars(
                select(Notification)
                .where(Notification.id == note_id, _due(now))
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            ).first()
            if note is None:
                continue  # another sender took it, or it is no longer due
            email = session.scalar(select(User.email).where(User.id == note.user_id)) or ""
            try:
                sender(
                    Email(to=email, subject=note.subject, body=note.body, language=note.language)
                )
            except Exception as exc:  # any delivery failure is recorded, never raised
                error = f"{type(exc).__name__}: {exc}"[:2000]
                note.attempts += 1
                note.last_error = error
                if note.attempts >= MAX_ATTEMPTS:
                    note.status = NotificationStatus.failed
                    note.next_attempt_at = None
                    failed += 1
                else:
                    note.next_attempt_at = now + backoff(note.attempts)
                    retrying += 1
                log.warning("notification %s not delivered: %s", note_id, error)
                unreachable = isinstance(exc, _UNREACHABLE)
            else:
                note.status = NotificationStatus.sent
                note.attempts += 1
                note.sent_at = utcnow()
                note.next_attempt_at = None
                note.last_error = None
                sent += 1
                unreachable = False
        if unreachable:
            break  # the server is down: the others wait for the next run, untried
    return SendCounts(sent=sent, retrying=retrying, failed=failed)


def send_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: dt.datetime | None = None,
    limit: int = 100,
    sender: Sender | None = None,
) -> SendCounts:
    """`send_outbox` in a transaction of its own, with the sender `settings` configure."""
    with transaction(session_factory) as session:
        return send_outbox(session, now, sender=sender or sender_for(settings), limit=limit)


def _log_sender(email: Email) -> None:
    log.info("notification to %s: %s\n%s", email.to, email.subject, email.body)


def _smtp_send(settings: Settings, email: Email) -> None:
    if not email.to:
        raise ValueError("the recipient has no e-mail address")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Content-Language"] = email.language
    message.set_content(email.body)
    # Looked up at call time so that tests can put a fake server in its place.
    if settings.smtp_port == 465:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host or "",
            settings.smtp_port,
            timeout=SMTP_TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        server = smtplib.SMTP(
            settings.smtp_host or "", settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
        )
    with server as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
