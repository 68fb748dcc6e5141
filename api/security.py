"""Authentication and function-level authorisation for every route, declared in one place.

Each view method carries its policy: `@allow(Role.admin, Role.manager)` or `@public`.
`allow` authenticates the bearer token (401 when missing, unknown, expired or revoked) and
checks the role (403). Object-level scope is the services' job (factoryshare.access).
The role-matrix test walks the URL map and fails on any handler without a policy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request, session as web_session

from api.database import db
from factoryshare.access import Actor
from factoryshare.errors import Forbidden, Unauthorized
from factoryshare.models import Role, User
from factoryshare.services import accounts

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = frozenset(Role)



def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _authenticate() -> Actor:
    if "actor" in g:
        return g.actor
    token = bearer_token()
    user: User | None = None
    if token is not None:
        user = accounts.user_for_token(db(), token)
        if user is None:
            raise Unauthorized("The token is unknown, expired or revoked; sign in again.",
                               code="invalid_token")
    else:
        # Browser pages sign in with a session cookie instead of a bearer token.
        user_id = web_session.get("user_id")
        if isinstance(user_id, int):
            candidate = db().get(User, user_id)
            if candidate is not None and candidate.is_active:
                user = candidate
    if user is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
    g.user = user
    g.actor = Actor.of(user)
    return g.actor


def current_actor() -> Actor:
    return _authenticate()


def allow(*roles: Role) -> Callable[[F], F]:
    allowed = frozenset(roles) if roles else ALL_ROLES

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = _authenticate()
            if actor.role not in allowed:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        wrapper.__roles__ = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    view.__roles__ = None  # type: ignore[attr-defined]
    # The spec requires a bearer token everywhere; a public operation says it needs none.
    doc = getattr(view, "_apidoc", {})
    doc.setdefault("manual_doc", {})["security"] = []
    view._apidoc = doc  # type: ignore[attr-defined]
    return view


def policy_of(handler: Any) -> frozenset[Role] | None | str:
    """The roles a handler admits, None for public, "missing" when it declares nothing."""
    if not hasattr(handler, "__roles__"):
        return "missing"
    return handler.__roles__
