"""Notifications: queue messages in the outbox, and deliver them with retries.

`notify` renders a message per recipient, in the recipient's language, and stores it in the
caller's transaction: a message exists exactly when the change it reports was committed.
`send_pending` delivers due messages, each in its own short transactions, over SMTP when
`SMTP_HOST` is set and to the log otherwise. A failed delivery keeps the message, counts the
attempt, stores the error and retries later with exponential back-off; after
`MAX_ATTEMPTS` the message is kept as `failed`. Nothing is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from factoryshare import messages
from factoryshare.access import Actor, get_scoped, register_scope
from factoryshare.config import Settings
from factoryshare.db import transaction, utcnow
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.models import User
from factoryshare.models.notifications import Notification, NotificationStatus

log = logging.getLogger(__name__)

# A message is tried this many times before it is kept as failed.
MAX_ATTEMPTS = 8
# Back-off after the n-th failed attempt: FIRST_RETRY * 2**(n-1), at most MAX_RETRY.
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=6)
# A sender claims a message for this long; if it dies mid-send the message is due again after.
CLAIM = dt.timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30

# Everyone sees only the messages addressed to them (admins see all).
register_scope(Notification, lambda actor: Notification.user_id == actor.user_id)


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    template: str,
    context: dict[str, Any],
    key: str | None = None,
) -> list[Notification]:
    """Queue `template` for each user, rendered in the user's language.

    With a `key`, a user who already has a message with that key gets no second one (the
    existing message is returned instead), so a retried job or request notifies once.
    """
    messages.template_for(template)  # unknown template: LookupError before anything else
    wanted = list(dict.fromkeys(int(u) for u in user_ids))
    if not wanted:
        return []
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
            result.append(note)
            continue
        # Another transaction may have stored the same key meanwhile: keep theirs.
        try:
            with session.begin_nested():
                session.add(note)
        except IntegrityError:
            result.append(_existing(session, [user_id], key)[user_id])
        else:
            result.append(note)
    return result


def _existing(session: Session, user_ids: list[int], key: str) -> dict[int, Notification]:
    rows = session.scalars(
        select(Notification).where(Notification.key == key, Notification.user_id.in_(user_ids))
    )
    return {n.user_id: n for n in rows}


def list_notifications(
    session: Session, actor: Actor, *, user_id: int | None = None, status: str | None = None
) -> Select[tuple[Notification]]:
    """The caller's messages, newest first; an admin may look at another user's."""
    target = actor.user_id if user_id is None else user_id
    if target != actor.user_id and not actor.is_admin:
        raise Forbidden("You may only read your own notifications.")
    stmt = select(Notification).where(Notification.user_id == target)
    if status is not None:
        try:
            wanted = NotificationStatus(status)
        except ValueError:
            raise ValidationFailed(
                "Unknown status.",
                errors={"status": [f"Use one of: {', '.join(s.value for s in NotificationStatus)}."]},
            ) from None
        stmt = stmt.where(Notification.status == wanted)
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def get_notification(session: Session, actor: Actor, notification_id: int) -> Notification:
    return get_scoped(session, actor, Notification, notification_id)


# -- delivery ---------------------------------------------------------------------------------

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


def send_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: dt.datetime | None = None,
    limit: int = 100,
) -> SendCounts:
    """Deliver up to `limit` due messages; return how many were sent, will retry, failed."""
    now = now or utcnow()
    with transaction(session_factory) as session:
        ids = list(session.scalars(
            select(Notification.id).where(_due(now))
            .order_by(Notification.next_attempt_at, Notification.id).limit(limit)
        ))
    sent = retrying = failed = 0
    for note_id in ids:
        claimed = _claim(session_factory, note_id, now)
        if claimed is None:
            continue  # another sender took it, or it is no longer due
        try:
            _deliver(settings, *claimed)
        except Exception as exc:  # any delivery failure is recorded, never raised
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if _record_failure(session_factory, note_id, now, error):
                failed += 1
            else:
                retrying += 1
            log.warning("notification %s not delivered: %s", note_id, error)
        else:
            _record_sent(session_factory, note_id)
            sent += 1
    return SendCounts(sent=sent, retrying=retrying, failed=failed)


def _claim(
    session_factory: sessionmaker[Session], note_id: int, now: dt.datetime
) -> tuple[str, str, str, str] | None:
    """Take a due message for this sender (pushing its next attempt past the claim)."""
    with transaction(session_factory) as session:
        note = session.scalars(
            select(Notification).where(Notification.id == note_id, _due(now))
            .with_for_update(skip_locked=True)
        ).first()
        if note is None:
            return None
        email = session.scalar(select(User.email).where(User.id == note.user_id))
        note.next_attempt_at = now + CLAIM
        return email or "", note.subject, note.body, note.language


def _record_sent(session_factory: sessionmaker[Session], note_id: int) -> None:
    with transaction(session_factory) as session:
        note = session.get(Notification, note_id)
        if note is not None:
            note.status = NotificationStatus.sent
            note.attempts += 1
            note.sent_at = utcnow()
            note.next_attempt_at = None
            note.last_error = None


def _record_failure(
    session_factory: sessionmaker[Session], note_id: int, now: dt.datetime, error: str
) -> bool:
    """Count the failed attempt; True when it was the last one allowed."""
    with transaction(session_factory) as session:
        note = session.get(Notification, note_id)
        if note is None:
            return False
        note.attempts += 1
        note.last_error = error
        if note.attempts >= MAX_ATTEMPTS:
            note.status = NotificationStatus.failed
            note.next_attempt_at = None
            return True
        note.next_attempt_at = now + backoff(note.attempts)
        return False


def _deliver(settings: Settings, to: str, subject: str, body: str, language: str) -> None:
    if not settings.smtp_host:
        log.info("notification to %s: %s\n%s", to, subject, body)
        return
    if not to:
        raise ValueError("the recipient has no e-mail address")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Content-Language"] = language
    message.set_content(body)
    # Looked up at call time so that tests can put a fake server in its place.
    if settings.smtp_port == 465:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                              timeout=SMTP_TIMEOUT_SECONDS)
    with server as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
