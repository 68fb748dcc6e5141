"""Parallel wrong guesses check no more passwords than the lock allows, for known and unknown
addresses alike."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from factoryshare.models import ApiToken, AuditEvent, Role, User
from factoryshare.models.accounts import SignInFailure
from factoryshare.services import accounts
from tests.concurrency.test_double_booking import _all_at_once

PARALLEL = 12


@pytest.mark.postgres
@pytest.mark.parametrize("address", ["known", "unknown"])
def test_twelve_parallel_wrong_guesses_check_at_most_the_lock_threshold_of_passwords(
    clock, engine, is_postgres, settings, password_hash, monkeypatch, address
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    from api import create_app

    email = f"race-signin-{uuid.uuid4().hex[:12]}@example.id"
    user_id = None
    if address == "known":
        with Session(engine) as s:
            user = User(
                email=email,
                name="Race sign-in",
                password_hash=password_hash,
                role=Role.admin,
                language="id",
                is_active=True,
                failed_logins=0,
            )
            s.add(user)
            s.commit()
            user_id = user.id

    checks: list[str] = []
    lock = threading.Lock()
    real_check = accounts._password_matches

    def counting(hash_: str, password: str) -> bool:
        with lock:
            checks.append(hash_)
        return real_check(hash_, password)

    monkeypatch.setattr(accounts, "_password_matches", counting)
    # The app commits for real here: each request is its own transaction, as in production.
    app = create_app(settings, session_factory=sessionmaker(bind=engine, expire_on_commit=False))

    def guess(n: int) -> tuple[int, str | None]:
        r = app.test_client().post(
            "/api/v1/auth/token", json={"email": email, "password": f"wrong-guess-{n}"}
        )
        return r.status_code, (r.get_json() or {}).get("code")

    try:
        answers = _all_at_once(guess, list(range(PARALLEL)))
        allowed = settings.login_max_failures
        assert len(answers) == PARALLEL
        assert all(status < 500 for status, _ in answers), answers
        assert sorted(answers) == (
            [(401, "invalid_credentials")] * allowed
            + [(423, "account_locked")] * (PARALLEL - allowed)
        )
        assert len(checks) <= allowed, f"{len(checks)} passwords checked, the lock allows {allowed}"
        with Session(engine) as s:
            if address == "known":
                locked_until = s.get(User, user_id).locked_until
            else:
                locked_until = s.scalar(
                    select(SignInFailure.locked_until).where(
                        SignInFailure.address_hash == accounts.hash_token(email)
                    )
                )
        assert locked_until is not None and locked_until > clock.now()
    finally:
        with Session(engine) as s:
            s.execute(
                delete(SignInFailure).where(
                    SignInFailure.address_hash == accounts.hash_token(email)
                )
            )
            if user_id is not None:
                s.execute(
                    delete(AuditEvent).where(
                        AuditEvent.object_type == "users", AuditEvent.object_id == str(user_id)
                    )
                )
                s.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
                s.execute(delete(User).where(User.id == user_id))
            s.commit()
