"""User accounts: admins list and manage them; everyone keeps their own profile.

Creating and changing accounts with their role and scope lives in `services.accounts`;
this module adds reading them and a user's changes to its own profile.
"""

from __future__ import annotations

from typing import Any

from argon2.exceptions import VerificationError
from sqlalchemy import Select, func
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import contains_pattern
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Role, User
from factoryshare.services import accounts


def list_users(
    session: Session,
    actor: Actor,
    *,
    role: str | None = None,
    house_id: int | None = None,
    search: str | None = None,
    active: bool | None = None,
) -> Select[tuple[User]]:
    actor.require(Role.admin)
    stmt = scoped(actor, User)
    if role is not None:
        stmt = stmt.where(User.role == Role(role))
    if house_id is not None:
        stmt = stmt.where(User.houses.any(id=house_id))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    if search:
        pattern = contains_pattern(search)
        stmt = stmt.where(
            func.lower(User.email).like(pattern, escape="\\")
            | func.lower(User.name).like(pattern, escape="\\")
        )
    # Each user lists the houses it manages: read with the list.
    return stmt.order_by(User.email, User.id).options(selectinload(User.houses))


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    actor.require(Role.admin)
    return get_scoped(session, actor, User, user_id)


def update_own_profile(
    session: Session, actor: Actor, changes: dict[str, Any], *, keep_token: str | None = None
) -> User:
    """Name and language freely; a new password only with the current one. A new password
    ends every other session: all the user's API tokens and browser sessions except
    `keep_token`, the credential of the request that changes it."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise ValidationFailed(
            N_("Only a signed-in user has a profile."), errors={"user": [N_("Unknown user.")]}
        )
    before = audit.snapshot(user)
    if "password" in changes:
        current = changes.get("current_password")
        if not current:
            raise ValidationFailed(
                N_("Give your current password to set a new one."),
                errors={"current_password": [N_("Required to change the password.")]},
            )
        try:
            accounts.verify_password(user.password_hash, current)
        except VerificationError:
            raise ValidationFailed(
                N_("Your current password is not correct."),
                errors={"current_password": [N_("Not your current password.")]},
            ) from None
        accounts.check_password_rules(changes["password"])
        user.password_hash = accounts.hash_password(changes["password"])
        # A new password ends every other session signed in with the old one.
        accounts.revoke_tokens(session, user.id, keep=keep_token)
    for key in ("name", "language"):
        if key in changes:
            setattr(user, key, changes[key])
    session.flush()
    audit.record(session, actor, "user.updated", user, before=before, after=audit.snapshot(user))
    return user
