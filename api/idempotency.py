"""Idempotent POSTs: a retry with the same `Idempotency-Key` gets the first answer back.

The key, the caller, a hash of the request and the first successful answer are stored in
`idempotency_keys` in the same transaction as the change itself, so either both commit or
neither does (a failed first attempt leaves nothing behind and may simply be retried).
- same key, same request: the stored answer is replayed (header `Idempotent-Replayed: true`);
- same key, different request: 422 `idempotency_key_reused`;
- same key while the first request is still running: 409 `idempotency_in_progress`.

Use it as the outermost decorator of a view method:

    @idempotent
    @allow(...)
    @blp.arguments(...)
    @blp.response(201, ...)
    def post(self, data): ...
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.database import db
from api.security import current_actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models.bookings import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

HEADER_DOC = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "a client-chosen unique key; a retry with it replays the first answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        actor = current_actor()
        if not key.strip() or len(key) > MAX_KEY_LENGTH or actor.user_id is None:
            raise ValidationFailed(
                N_(
                    "%(header)s must be 1 to %(max_key_length)s characters.",
                    header=HEADER,
                    max_key_length=MAX_KEY_LENGTH,
                ),
                errors={
                    HEADER: [
                        N_("1 to %(max_key_length)s characters.", max_key_length=MAX_KEY_LENGTH)
                    ]
                },
            )
        session = db()
        fingerprint = _request_hash()
        existing = session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key
            )
        ).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        record = IdempotencyKey(user_id=actor.user_id, key=key, request_hash=fingerprint)
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:
            raise Conflict(
                N_("A request with this Idempotency-Key is still being processed; retry shortly."),
                code="idempotency_in_progress",
            ) from None
        response = view(*args, **kwargs)
        if isinstance(response, Response) and response.status_code < 400:
            record.status_code = response.status_code
            record.response_body = response.get_json(silent=True)
            session.flush()
        return response

    return wrapper


def _replay(existing: IdempotencyKey, fingerprint: str) -> Response:
    if existing.request_hash != fingerprint:
        raise ValidationFailed(
            N_("This %(header)s was already used for a different request.", header=HEADER),
            code="idempotency_key_reused",
            errors={HEADER: [N_("Already used for a different request; use a new key.")]},
        )
    if existing.status_code is None:
        raise Conflict(
            N_("A request with this Idempotency-Key is still being processed; retry shortly."),
            code="idempotency_in_progress",
        )
    response = Response(
        json.dumps(existing.response_body),
        status=existing.status_code,
        mimetype="application/json",
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response
