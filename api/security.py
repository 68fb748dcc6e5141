"""Authentication and function-level authorisation for every route, declared in one place.

Each view method carries its policy: `@allow(Role.admin, Role.manager)` or `@public`.
`allow` authenticates the bearer token (401 when missing, unknown, expired or revoked) and
checks the role (403). Object-level scope is the services' job (factoryshare.access).
The role-matrix test walks the URL map and fails on any handler without a policy.

Also here, for every answer of the app (`init_app`):

- Browser sessions are bound to a server-side token: the page sign-in keeps the `api_tokens`
  row `accounts.sign_in` issues and puts the token in the signed session cookie; every request
  checks it, so signing out, a password change (which revokes every token but the request's
  own) and deactivation end the session on the server, not only in the browser.
- The JSON API takes a browser session only together with a valid CSRF token in the
  `X-CSRFToken` header on unsafe methods (403 `csrf_failed` otherwise); bearer tokens need none.
- Sign-in (`POST /api/v1/auth/token` and the login form) is rate limited with Flask-Limiter
  per e-mail address and per client address (429 with Retry-After), counted in
  RATELIMIT_STORAGE_URI (memory:// per process, redis://... shared by every worker).
- Security headers: Content-Security-Policy (nothing from outside, no inline script or style,
  no framing), X-Frame-Options, X-Content-Type-Options, Referrer-Policy; HSTS in production.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from flask import session as web_session
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.validators import ValidationError

from api.database import db
from api.errors import error_response
from factoryshare.access import Actor
from factoryshare.errors import Forbidden, Unauthorized
from factoryshare.i18n import N_
from factoryshare.models import Role, User
from factoryshare.services import accounts

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = frozenset(Role)

# The session key holding the token a browser session is bound to.
SESSION_TOKEN = "session_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


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
            raise Unauthorized(
                N_("The token is unknown, expired or revoked; sign in again."), code="invalid_token"
            )
    else:
        # Browser pages sign in with a session cookie instead of a bearer token; the session
        # was checked against its server-side token before the request (end_ended_session).
        user_id = web_session.get("user_id")
        if isinstance(user_id, int):
            candidate = db().get(User, user_id)
            if candidate is not None and candidate.is_active:
                user = candidate
        if user is not None:
            _require_csrf_token()
    if user is None:
        raise Unauthorized(N_("Sign in first: send 'Authorization: Bearer <token>'."))
    g.user = user
    g.actor = Actor.of(user)
    return g.actor


def _require_csrf_token() -> None:
    """A browser session changes nothing through the JSON API without the page's CSRF token:
    another site can make the browser send the cookie, never the token."""
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = next((request.headers[h] for h in CSRF_HEADERS if request.headers.get(h)), None)
    try:
        validate_csrf(token)
    except ValidationError:
        raise Forbidden(
            N_(
                "A signed-in browser must send the page's CSRF token in the X-CSRFToken header; "
                "other clients use 'Authorization: Bearer <token>'."
            ),
            code="csrf_failed",
        ) from None


def current_actor() -> Actor:
    return _authenticate()


def request_credential() -> str | None:
    """The token this request is signed in with: the bearer token, or the token the browser
    session is bound to."""
    token = bearer_token()
    if token is not None:
        return token
    value = web_session.get(SESSION_TOKEN)
    return value if isinstance(value, str) else None


def bind_browser_session(token: str) -> None:
    """Bind the (freshly started) browser session to the token sign-in issued for it."""
    web_session[SESSION_TOKEN] = token


def end_browser_session() -> None:
    """Sign the browser out on the server too: its token is revoked, so a copy of the
    cookie opens nothing any more."""
    token = web_session.get(SESSION_TOKEN)
    if isinstance(token, str):
        accounts.revoke_token(db(), token)
    _clear_session_keeping_language()


def _clear_session_keeping_language() -> None:
    lang = web_session.get("lang")
    web_session.clear()
    if lang is not None:
        web_session["lang"] = lang


def end_ended_session() -> None:
    """Before every request: a session whose token was revoked or expired (signed out,
    password changed, deactivated) or that has none is emptied, whatever the cookie says."""
    if request.endpoint == "static" or "user_id" not in web_session:
        return
    token = web_session.get(SESSION_TOKEN)
    user = accounts.user_for_token(db(), token) if isinstance(token, str) else None
    if user is None or user.id != web_session.get("user_id"):
        _clear_session_keeping_language()


def allow(*roles: Role) -> Callable[[F], F]:
    allowed = frozenset(roles) if roles else ALL_ROLES

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = _authenticate()
            if actor.role not in allowed:
                raise Forbidden(N_("Your role may not do this."))
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


# --- sign-in rate limits ------------------------------------------------------------------

# The views that check passwords; both count against the same per-address and per-client
# limits (shared scopes), so switching between the API and the form gains nothing.
SIGN_IN_ENDPOINTS = ("auth.Token", "web.login")


def _signin_address() -> str:
    """The e-mail address a sign-in is for (JSON or form), normalised and hashed: the limit
    counts per address without keeping addresses in the rate-limit storage."""
    body = request.get_json(silent=True) if request.is_json else None
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    if not isinstance(email, str):
        email = ""
    normal = email.strip().lower()[:254].encode("utf-8", "surrogatepass")
    return hashlib.sha256(normal).hexdigest()


def retry_after_seconds() -> int:
    """Seconds until the limit this request broke lets it through again."""
    limiter: Limiter = current_app.extensions["factoryshare_limiter"]
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))


def _init_limiter(app: Flask) -> None:
    settings = app.extensions["factoryshare"].settings
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    app.config.setdefault("SIGNIN_LIMIT_PER_ADDRESS", settings.signin_limit_per_address)
    app.config.setdefault("SIGNIN_LIMIT_PER_CLIENT", settings.signin_limit_per_client)
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or "factoryshare",
        # A storage that stops answering must not stop signing in: count in memory meanwhile.
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions["factoryshare_limiter"] = limiter
    per_address = limiter.shared_limit(
        lambda: current_app.config["SIGNIN_LIMIT_PER_ADDRESS"],
        scope="sign-in-address",
        key_func=_signin_address,
        methods=["POST"],
    )
    per_client = limiter.shared_limit(
        lambda: current_app.config["SIGNIN_LIMIT_PER_CLIENT"],
        scope="sign-in-client",
        key_func=get_remote_address,
        methods=["POST"],
    )
    for endpoint in SIGN_IN_ENDPOINTS:
        app.view_functions[endpoint] = per_client(per_address(app.view_functions[endpoint]))

    @app.errorhandler(RateLimitExceeded)
    def _too_many(error: RateLimitExceeded):  # type: ignore[no-untyped-def]
        seconds = retry_after_seconds()
        return error_response(
            429,
            "too_many_requests",
            N_("Too many sign-in attempts; try again in %(seconds)s second(s).", seconds=seconds),
            details={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )


# --- security headers ---------------------------------------------------------------------

# The pages load only their own stylesheets and scripts, with no inline code; nothing may frame
# them and forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.extensions["factoryshare"].settings.env == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Server-side sessions, sign-in limits and security headers; call after every view is
    registered."""
    app.before_request(end_ended_session)
    app.after_request(_security_headers)
    hops = app.extensions["factoryshare"].settings.trusted_proxies
    if hops:
        # Behind reverse proxies the client is what they forward, not the last proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _init_limiter(app)
