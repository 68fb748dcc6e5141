"""The request's database session: one transaction per request.

The session is opened on first use and committed after a successful response (status
below 400); any error response or exception rolls everything back, so a request never
leaves a half-written change.

A transaction that lost to a deadlock (SQLSTATE 40P01) or a serialisation failure (40001)
is run again, the whole request from the start, up to `locking.ATTEMPTS` times in all with a
short random wait between attempts (`RetryingTransactions`); only then does the client get
503 `service_unavailable` with Retry-After. A request that committed something on the way
(a failed sign-in is counted even though the answer is an error) or whose body cannot be read
again is not run twice.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from api.errors import RETRY_TRANSACTION, database_error_response
from factoryshare import locking
from factoryshare.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine | None
    session_factory: sessionmaker[Session]


def runtime() -> Runtime:
    return current_app.extensions["factoryshare"]


# Set in the WSGI environ once the request's session has committed: it is not run again.
COMMITTED = "factoryshare.committed"


def _note_commit(_session: Session) -> None:
    if has_request_context():
        request.environ[COMMITTED] = True


def db() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
        event.listen(g.db_session, "after_commit", _note_commit)
    return g.db_session


class RetryingTransactions:
    """WSGI middleware: run a request again when its transaction lost to a deadlock or a
    serialisation failure (the error handlers flag the environ), `attempts` times in all.

    The body is read once and handed to every attempt; a request without a Content-Length
    or larger than `max_body` runs once (Flask answers an oversized one with 413 itself).
    The answer of a failed attempt is thrown away unsent; the last attempt's answer, success
    or 503, goes to the client.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        attempts: int,
        max_body: int | None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.app = app
        self.attempts = attempts
        self.max_body = max_body
        self.sleep = sleep

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        length = environ.get("CONTENT_LENGTH")
        if not length:
            return None if environ.get("HTTP_TRANSFER_ENCODING") else b""
        try:
            size = int(length)
        except ValueError:
            return None
        if size < 0 or (self.max_body is not None and size > self.max_body):
            return None
        return environ["wsgi.input"].read(size)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = self._body(environ)
        if body is None or self.attempts <= 1:
            return self.app(environ, start_response)
        for attempt in range(1, self.attempts + 1):
            attempt_environ = dict(environ)
            attempt_environ["wsgi.input"] = io.BytesIO(body)
            started: list[Any] = []
            written: list[bytes] = []

            def capture(
                status: str,
                headers: list[Any],
                exc_info: Any = None,
                _started: list[Any] = started,
                _written: list[bytes] = written,
            ):  # type: ignore[no-untyped-def]
                _started[:] = [status, headers, exc_info]
                return _written.append

            answer = self.app(attempt_environ, capture)
            again = (
                attempt < self.attempts
                and attempt_environ.get(RETRY_TRANSACTION)
                and not attempt_environ.get(COMMITTED)
            )
            if not again:
                break
            close = getattr(answer, "close", None)
            if close is not None:
                close()
            log.info(
                "%s %s lost to a deadlock or serialisation failure; attempt %d of %d",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                attempt + 1,
                self.attempts,
            )
            self.sleep(locking.backoff(attempt))
        if attempt_environ.get(RETRY_TRANSACTION):
            log.warning(
                "%s %s still failing after %d attempts: 503",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                attempt,
            )
        write = start_response(*started)
        for chunk in written:
            write(chunk)
        return answer


def init_app(app: Flask) -> None:
    app.wsgi_app = RetryingTransactions(  # type: ignore[method-assign]
        app.wsgi_app, attempts=locking.ATTEMPTS, max_body=app.config.get("MAX_CONTENT_LENGTH")
    )

    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        except (DBAPIError, StaleDataError) as exc:
            session.rollback()
            log.info("commit refused: %s", exc)
            response = database_error_response(exc)
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
