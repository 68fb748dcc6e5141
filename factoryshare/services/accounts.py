"""Accounts: password hashing, sign-in with lock-out, bearer tokens, user management."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare import audit
from factoryshare.access import Actor, get_scoped
from factoryshare.errors import Conflict, Locked, Unauthorized, ValidationFailed
from factoryshare.models import (
    Aggregator,
    ApiToken,
    Member,
    ProductionHouse,
    Role,
    User,
)
from factoryshare.db import utcnow

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


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "The password is too short.",
            errors={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )
    if len(password) > 256:
        raise ValidationFailed(
            "The password is too long.", errors={"password": ["Use at most 256 characters."]}
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


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
    the lock answers with when it ends, and a right password does not open it early.
    """
    now = now or utcnow()
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise Locked(
            f"Too many failed sign-ins. The account is locked for {minutes} more minute(s).",
            details={"locked_until": user.locked_until.isoformat()},
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            audit.record(session, Actor.system(), "account_locked", user)
        session.flush()
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials") from None
    if not user.is_active:
        raise Unauthorized("This account has been deactivated.", code="account_inactive")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(minutes=ttl_minutes)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=expires))
    session.flush()
    return IssuedToken(token=token, expires_at=expires, user=user)


def user_for_token(session: Session, token: str, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None if unknown, expired or revoked."""
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user


def revoke_token(session: Session, token: str) -> None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def _check_scope_for_role(
    session: Session,
    role: Role,
    house_ids: list[int] | None,
    member_id: int | None,
    aggregator_id: int | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    house_ids = house_ids or []
    if role is Role.manager:
        if not house_ids:
            errors["house_ids"] = ["A manager needs at least one house."]
        else:
            found = set(session.scalars(select(ProductionHouse.id).where(ProductionHouse.id.in_(house_ids))))
            missing = sorted(set(house_ids) - found)
            if missing:
                errors["house_ids"] = [f"No house with id {', '.join(map(str, missing))}."]
    elif house_ids:
        errors["house_ids"] = ["Only a manager has houses."]
    if role is Role.member:
        if member_id is None:
            errors["member_id"] = ["A member user needs its member business."]
        elif session.get(Member, member_id) is None:
            errors["member_id"] = [f"No member with id {member_id}."]
    elif member_id is not None:
        errors["member_id"] = ["Only a member user belongs to a member business."]
    if role is Role.aggregator:
        if aggregator_id is None:
            errors["aggregator_id"] = ["An aggregator user needs its aggregator."]
        elif session.get(Aggregator, aggregator_id) is None:
            errors["aggregator_id"] = [f"No aggregator with id {aggregator_id}."]
    elif aggregator_id is not None:
        errors["aggregator_id"] = ["Only an aggregator user belongs to an aggregator."]
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
) -> User:
    actor.require(Role.admin)
    role = Role(role)
    email = email.strip().lower()
    check_password_rules(password)
    errors = _check_scope_for_role(session, role, house_ids, member_id, aggregator_id)
    if errors:
        raise ValidationFailed("The user's scope does not fit its role.", errors=errors)
    if session.scalars(select(func.count()).select_from(User).where(User.email == email)).one():
        raise Conflict(
            f"A user with e-mail {email} already exists.",
            code="email_taken",
            errors={"email": ["Already in use."]},
        )
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role,
        language=language,
        member_id=member_id,
        aggregator_id=aggregator_id,
        is_active=True,
        failed_logins=0,
    )
    if house_ids:
        user.houses = list(
            session.scalars(select(ProductionHouse).where(ProductionHouse.id.in_(house_ids)))
        )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", user, after=audit.snapshot(user, extra={"house_ids": house_ids or []}))
    return user


def update_user(session: Session, actor: Actor, user_id: int, changes: dict[str, Any]) -> User:
    actor.require(Role.admin)
    user = get_scoped(session, actor, User, user_id)
    before = audit.snapshot(user, extra={"house_ids": [h.id for h in user.houses]})
    if "password" in changes:
        check_password_rules(changes["password"])
        user.password_hash = hash_password(changes.pop("password"))
        # A new password ends every session signed in with the old one.
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
    if "house_ids" in changes:
        house_ids = changes.pop("house_ids") or []
        errors = _check_scope_for_role(session, user.role, house_ids, user.member_id, user.aggregator_id)
        if errors:
            raise ValidationFailed("The user's scope does not fit its role.", errors=errors)
        user.houses = list(
            session.scalars(select(ProductionHouse).where(ProductionHouse.id.in_(house_ids)))
        )
    for key in ("name", "language", "is_active"):
        if key in changes:
            setattr(user, key, changes[key])
    if changes.get("is_active") is False:
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
    if changes.get("unlock"):
        user.locked_until = None
        user.failed_logins = 0
    session.flush()
    audit.record(session, actor, "update", user, before=before,
                 after=audit.snapshot(user, extra={"house_ids": [h.id for h in user.houses]}))
    return user
