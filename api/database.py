"""The request's database session: one transaction per request.

The session is opened on first use and committed after a successful response (status
below 400); any error response or exception rolls everything back, so a request never
leaves a half-written change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.errors import error_response
from factoryshare.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine | None
    session_factory: sessionmaker[Session]


def runtime() -> Runtime:
    return current_app.extensions["factoryshare"]


def db() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    return g.db_session


def init_app(app: Flask) -> None:
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
        except IntegrityError as exc:
            session.rollback()
            log.info("commit refused by a constraint: %s", exc.orig)
            response = _conflict_response(exc)
        except OperationalError as exc:
            session.rollback()
            log.warning("commit failed: %s", exc.orig)
            response = error_response(503, "service_unavailable",
                                      "The service is busy; please try again in a moment.",
                                      headers={"Retry-After": "2"})
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def _conflict_response(exc: IntegrityError) -> Response:
    # PostgreSQL's exclusion constraint on live bookings reports SQLSTATE 23P01.
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate == "23P01":
        return error_response(409, "booking_conflict", "This machine is already booked at that time.")
    return error_response(409, "conflict", "This change clashes with existing data.")
