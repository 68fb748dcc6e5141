"""Accounts: password hashing, sign-in with lock-out, bearer tokens, user management."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, DomainError, Locked, Unauthorized, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import (
    Aggregator,
    ApiToken,
    Member,
    ProductionHouse,
    Role,
    User,
)
from factoryshare.models.accounts import SignInFailure

# Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4),
# above OWASP's floor. Hashes made with older parameters are upgraded at the next sign-in.
_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10

# A hash to verify against when the e-mail is unknown, so that a wrong e-mail and a wrong
# password take the same time.
_DUMMY_HASH = _hasher.hash("factoryshare-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> None:
    """Raises argon2's VerificationError when the password does not match the hash."""
    _hasher.verify(password_hash, password)


def _password_matches(password_hash: str, password: str) -> bool:
    """The one place sign-in checks a password (the tests count the calls)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("The password is too short."),
            errors={
                "password": [
                    N_(
                        "Use at least %(min_password_length)s characters.",
                        min_password_length=MIN_PASSWORD_LENGTH,
                    )
                ]
            },
        )
    if len(password) > 256:
        raise ValidationFailed(
            N_("The password is too long."),
            errors={"password": [N_("Use at most 256 characters.")]},
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


# An unknown address's failures are forgotten after a day without one.
_UNKNOWN_ADDRESS_MEMORY = dt.timedelta(days=1)


def _wrong_credentials() -> Unauthorized:
    return Unauthorized(N_("Wrong e-mail or password."), code="invalid_credentials")


def _locked(until: dt.datetime, now: dt.datetime) -> Locked:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return Locked(
        N_(
            "Too many failed sign-ins. The account is locked for %(minutes)s more minute(s).",
            minutes=minutes,
        ),
        details={"locked_until": until.isoformat()},
    )


def _reserve_attempt(
    session: Session,
    model: type[User] | type[SignInFailure],
    where: Any,
    max_failures: int,
    now: dt.datetime,
) -> int | None:
    """Count one more attempt before any password is checked, in one atomic UPDATE that also
    takes the row lock: the count is the attempt's number, or None when the row is locked (or
    its allowance is used up). Concurrent attempts on one account queue on the row lock until
    this transaction ends, so at most `max_failures` passwords are ever checked before the lock
    holds, whatever the timing."""
    return session.execute(
        update(model)
        .where(
            where,
            or_(model.locked_until.is_(None), model.locked_until <= now),
            model.failed_logins < max_failures,
        )
        .values(failed_logins=model.failed_logins + 1)
        .returning(model.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def _insert_ignoring_existing(session: Session, values: dict[str, Any]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(SignInFailure).values(**values).on_conflict_do_nothing())


def _fail_unknown_address(
    session: Session,
    email: str,
    password: str,
    *,
    max_failures: int,
    lock_minutes: int,
    now: dt.datetime,
) -> DomainError:
    """The answer for an address without an account: the same work and the same answers as a
    known account with a wrong password, its lock included."""
    address_hash = hash_token(email)
    session.execute(
        delete(SignInFailure).where(SignInFailure.last_failed_at < now - _UNKNOWN_ADDRESS_MEMORY)
    )
    _insert_ignoring_existing(
        session, {"address_hash": address_hash, "failed_logins": 0, "last_failed_at": now}
    )
    where = SignInFailure.address_hash == address_hash
    attempt = _reserve_attempt(session, SignInFailure, where, max_failures, now)
    row = session.scalars(
        select(SignInFailure).where(where).execution_options(populate_existing=True)
    ).one()
    if attempt is None:
        return _lock_now(session, row, None, lock_minutes, now)
    _password_matches(_DUMMY_HASH, password)
    row.last_failed_at = now
    if attempt >= max_failures:
        row.locked_until = now + dt.timedelta(minutes=lock_minutes)
        row.failed_logins = 0
    session.flush()
    return _wrong_credentials()


def _lock_now(
    session: Session,
    row: User | SignInFailure,
    user: User | None,
    lock_minutes: int,
    now: dt.datetime,
) -> Locked:
    """The answer when no attempt could be reserved: locked, or (the allowance used up while
    not locked, e.g. after LOGIN_MAX_FAILURES was lowered) locked from now on."""
    if row.locked_until is None or row.locked_until <= now:
        row.locked_until = now + dt.timedelta(minutes=lock_minutes)
        row.failed_logins = 0
        if user is not None:
            audit.record(session, Actor.system(), "user.locked", user)
        session.flush()
    return _locked(row.locked_until, now)


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    ttl_minutes: int,
    max_failures: int,
    lock_minutes: int,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """Check the credentials and issue a bearer token.

    After `max_failures` wrong passwords in a row the account is locked for `lock_minutes`;
    the lock answers with when it ends, and a right password does not open it early. Each
    attempt is counted atomically before its password is checked, so parallel guesses check
    at most `max_failures` passwords. An unknown address gets the same answers after the same
    work (an Argon2 check against a dummy hash, the same count and lock). The failures are
    flushed before the error is raised: the caller commits them even though it fails.
    """
    now = now or utcnow()
    email = email.strip().lower()
    user_id = session.scalar(select(User.id).where(User.email == email))
    if user_id is None:
        raise _fail_unknown_address(
            session, email, password, max_failures=max_failures, lock_minutes=lock_minutes, now=now
        )
    attempt = _reserve_attempt(session, User, User.id == user_id, max_failures, now)
    user = session.scalars(
        select(User).where(User.id == user_id).execution_options(populate_existing=True)
    ).one()
    if attempt is None:
        raise _lock_now(session, user, user, lock_minutes, now)
    if not _password_matches(user.password_hash, password):
        if attempt >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            audit.record(session, Actor.system(), "user.locked", user)
        session.flush()
        raise _wrong_credentials()
    user.failed_logins = 0
    user.locked_until = None
    if not user.is_active:
        session.flush()
        raise Unauthorized(N_("This account has been deactivated."), code="account_inactive")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(minutes=ttl_minutes)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=expires))
    session.flush()
    return IssuedToken(token=token, expires_at=expires, user=user)


@functools.cache
def _user_for_token_statement() -> Any:
    """Built once with bound parameters: every request signs in through it, and building the
    statement took longer than PostgreSQL takes to answer it."""
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > bindparam("now"),
            User.is_active.is_(True),
        )
    )


def user_for_token(session: Session, token: str, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None if unknown, expired or revoked."""
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    # One statement: the token's row and its user (every request signs in through here).
    return session.scalars(
        _user_for_token_statement(), {"token_hash": hash_token(token), "now": now}
    ).first()


def revoke_token(session: Session, token: str) -> None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def revoke_tokens(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """End every live token of a user, API tokens and browser sessions alike (each browser
    session is bound to a token), except `keep`: the one making the request, when given."""
    stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(ApiToken.token_hash != hash_token(keep))
    session.execute(stmt.values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    session.flush()


def _check_scope_for_role(
    session: Session,
    role: Role,
    house_ids: list[int] | None,
    member_id: int | None,
    aggregator_id: int | None,
    lender_id: int | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    house_ids = house_ids or []
    if role is Role.manager:
        if not house_ids:
            errors["house_ids"] = [N_("A manager needs at least one house.")]
        else:
            found = set(
                session.scalars(select(ProductionHouse.id).where(ProductionHouse.id.in_(house_ids)))
            )
            missing = sorted(set(house_ids) - found)
            if missing:
                errors["house_ids"] = [
                    N_("No house with id %(ids)s.", ids=", ".join(map(str, missing)))
                ]
    elif house_ids:
        errors["house_ids"] = [N_("Only a manager has houses.")]
    if role is Role.member:
        if member_id is None:
            errors["member_id"] = [N_("A member user needs its member business.")]
        elif session.get(Member, member_id) is None:
            errors["member_id"] = [N_("No member with id %(member_id)s.", member_id=member_id)]
    elif member_id is not None:
        errors["member_id"] = [N_("Only a member user belongs to a member business.")]
    if role is Role.aggregator:
        if aggregator_id is None:
            errors["aggregator_id"] = [N_("An aggregator user needs its aggregator.")]
        elif session.get(Aggregator, aggregator_id) is None:
            errors["aggregator_id"] = [
                N_("No aggregator with id %(aggregator_id)s.", aggregator_id=aggregator_id)
            ]
    elif aggregator_id is not None:
        errors["aggregator_id"] = [N_("Only an aggregator user belongs to an aggregator.")]
    if role is Role.lender:
        from factoryshare.models.financing import Lender

        if lender_id is None:
            errors["lender_id"] = [N_("A lender user needs its lender institution.")]
        elif session.get(Lender, lender_id) is None:
            errors["lender_id"] = [N_("No lender with id %(lender_id)s.", lender_id=lender_id)]
    elif lender_id is not None:
        errors["lender_id"] = [N_("Only a lender user belongs to a lender institution.")]
    return errors


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    password: str,
    role: Role | str,
    name: str | None = None,
    language: str = "id",
    house_ids: list[int] | None = None,
    member_id: int | None = None,
    aggregator_id: int | None = None,
    lender_id: int | None = None,
) -> User:
    actor.require(Role.admin)
    role = Role(role)
    email = email.strip().lower()
    check_password_rules(password)
    errors = _check_scope_for_role(session, role, house_ids, member_id, aggregator_id, lender_id)
    if errors:
        raise ValidationFailed(N_("The user's scope does not fit its role."), errors=errors)
    if session.scalars(select(func.count()).select_from(User).where(User.email == email)).one():
        raise Conflict(
            N_("A user with e-mail %(email)s already exists.", email=email),
            code="email_taken",
            errors={"email": [N_("Already in use.")]},
        )
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role,
        language=language,
        member_id=member_id,
        aggregator_id=aggregator_id,
        lender_id=lender_id,
        is_active=True,
        failed_logins=0,
    )
    if house_ids:
        user.houses = list(
            session.scalars(select(ProductionHouse).where(ProductionHouse.id.in_(house_ids)))
        )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.created",
        user,
        after=audit.snapshot(user, extra={"house_ids": house_ids or []}),
    )
    return user


def update_user(session: Session, actor: Actor, user_id: int, changes: dict[str, Any]) -> User:
    actor.require(Role.admin)
    user = get_scoped(session, actor, User, user_id)
    before = audit.snapshot(user, extra={"house_ids": [h.id for h in user.houses]})
    if "password" in changes:
        check_password_rules(changes["password"])
        user.password_hash = hash_password(changes.pop("password"))
        # A password an admin sets ends every session signed in with the old one.
        revoke_tokens(session, user.id)
    if "house_ids" in changes:
        house_ids = changes.pop("house_ids") or []
        errors = _check_scope_for_role(
            session, user.role, house_ids, user.member_id, user.aggregator_id, user.lender_id
        )
        if errors:
            raise ValidationFailed(N_("The user's scope does not fit its role."), errors=errors)
        user.houses = list(
            session.scalars(select(ProductionHouse).where(ProductionHouse.id.in_(house_ids)))
        )
    for key in ("name", "language", "is_active"):
        if key in changes:
            setattr(user, key, changes[key])
    if changes.get("is_active") is False:
        for token in session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            token.revoked_at = utcnow()
    if changes.get("unlock"):
        user.locked_until = None
        user.failed_logins = 0
    session.flush()
    audit.record(
        session,
        actor,
        "user.updated",
        user,
        before=before,
        after=audit.snapshot(user, extra={"house_ids": [h.id for h in user.houses]}),
    )
    return user
