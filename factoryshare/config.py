"""Configuration from environment variables, with safe defaults for development.

Every variable the service reads is declared here, once, and listed in the README.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which variable and why."""


# Variables the service reads, with their defaults and meaning (the README table mirrors this).
VARIABLES: dict[str, tuple[str, str]] = {
    "FACTORYSHARE_ENV": (
        "development",
        "`development`, `test` or `production`; production refuses unsafe defaults",
    ),
    "DATABASE_URL": (
        "sqlite:///<instance>/factoryshare.db",
        "SQLAlchemy URL; PostgreSQL: `postgresql+psycopg://user@host:5432/db`",
    ),
    "SECRET_KEY": (
        "random per process (development only)",
        "signs sessions and CSRF tokens; required in production",
    ),
    "FACTORYSHARE_INSTANCE": (
        "./instance",
        "folder for the SQLite database and locks (permit documents live in the database)",
    ),
    "TOKEN_TTL_MINUTES": ("720", "lifetime of an API bearer token"),
    "LOGIN_MAX_FAILURES": ("5", "failed logins in a row before an account is locked"),
    "LOGIN_LOCK_MINUTES": ("15", "how long a locked account stays locked"),
    "SIGNIN_LIMIT_PER_ADDRESS": (
        "10 per minute (test: 1000 per minute)",
        "sign-in attempts for one e-mail address, API and page together, before 429",
    ),
    "SIGNIN_LIMIT_PER_CLIENT": (
        "60 per minute (test: 1000 per minute)",
        "sign-in attempts from one client address before 429",
    ),
    "RATELIMIT_STORAGE_URI": (
        "memory://",
        "where the sign-in limits count; `redis://127.0.0.1:6379` shares the count between gunicorn workers and hosts",
    ),
    "TRUSTED_PROXIES": (
        "0",
        "reverse proxies in front of the service whose X-Forwarded-For/-Proto are believed (the client address the sign-in limits count)",
    ),
    "MAX_CONTENT_LENGTH": (
        "1048576",
        "largest request body in bytes (uploads have their own limit)",
    ),
    "SMTP_HOST": ("(unset: messages go to the log)", "mail server for notifications"),
    "SMTP_PORT": ("587", "mail server port"),
    "SMTP_USER": ("(unset)", "mail server user"),
    "SMTP_PASSWORD": ("(unset)", "mail server password"),
    "SMTP_FROM": ("factoryshare@localhost", "sender address of notifications"),
    "SOLVER_MAX_SECONDS": ("60", "upper bound on the time limit a schedule run may ask for"),
    "SOLVER_WORKERS": ("2", "CP-SAT worker threads per schedule run"),
    "SOLVER_WORK_PER_SECOND": (
        "0",
        "0: a run solves for its time limit on the wall clock; above 0, reproducibly: the "
        "limit counted in CP-SAT's deterministic time (this many units a second) on one "
        "thread, the same plan for the same problem on any load",
    ),
    "PERMIT_DOCUMENTS_MAX_BYTES_PER_MEMBER": (
        "52428800",
        "bytes of permit documents one member may keep in all (each file at most 5 MB)",
    ),
}


def _float(name: str, default: float, env: dict[str, str]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be 0 or more, got {raw!r}")
    return value


def _int(name: str, default: int, env: dict[str, str]) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def instance_path_from_env(env: dict[str, str] | None = None) -> Path:
    """The instance folder (FACTORYSHARE_INSTANCE, else ./instance), as the app and the
    migrations see it."""
    source: Mapping[str, str] = os.environ if env is None else env
    return Path(source.get("FACTORYSHARE_INSTANCE") or Path.cwd() / "instance").resolve()


def _limit(name: str, default: str, env: dict[str, str]) -> str:
    """A rate limit in Flask-Limiter's notation ("10 per minute", "5/minute;100/day")."""
    from limits import parse_many

    raw = (env.get(name) or "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a rate such as '10 per minute', got {raw!r}") from None
    return raw


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    secret_key: str
    instance_path: Path
    token_ttl_minutes: int = 720
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    signin_limit_per_address: str = "10 per minute"
    signin_limit_per_client: str = "60 per minute"
    ratelimit_storage_uri: str = "memory://"
    trusted_proxies: int = 0
    max_content_length: int = 1024 * 1024
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "factoryshare@localhost"
    solver_max_seconds: int = 60
    solver_workers: int = 2
    solver_work_per_second: float = 0.0
    permit_documents_max_bytes_per_member: int = 50 * 1024 * 1024
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        mode = env.get("FACTORYSHARE_ENV", "development")
        if mode not in ("development", "test", "production"):
            raise ConfigError(
                f"FACTORYSHARE_ENV must be development, test or production, got {mode!r}"
            )
        instance = instance_path_from_env(env)
        secret = env.get("SECRET_KEY", "")
        if not secret:
            if mode == "production":
                raise ConfigError(
                    "SECRET_KEY is not set. In production the service refuses to start without "
                    "it; set SECRET_KEY to a long random string (for example the output of "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
                )
            secret = secrets.token_urlsafe(48)
        elif mode == "production" and len(secret) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long in production.")
        url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'factoryshare.db'}"
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        values: dict[str, object] = dict(
            env=mode,
            database_url=url,
            secret_key=secret,
            instance_path=instance,
            token_ttl_minutes=_int("TOKEN_TTL_MINUTES", 720, env),
            login_max_failures=_int("LOGIN_MAX_FAILURES", 5, env),
            login_lock_minutes=_int("LOGIN_LOCK_MINUTES", 15, env),
            signin_limit_per_address=_limit(
                "SIGNIN_LIMIT_PER_ADDRESS",
                "1000 per minute" if mode == "test" else "10 per minute",
                env,
            ),
            signin_limit_per_client=_limit(
                "SIGNIN_LIMIT_PER_CLIENT",
                "1000 per minute" if mode == "test" else "60 per minute",
                env,
            ),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or "memory://",
            trusted_proxies=0
            if env.get("TRUSTED_PROXIES") in (None, "", "0")
            else _int("TRUSTED_PROXIES", 0, env),
            max_content_length=_int("MAX_CONTENT_LENGTH", 1024 * 1024, env),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_int("SMTP_PORT", 587, env),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM") or "factoryshare@localhost",
            solver_max_seconds=_int("SOLVER_MAX_SECONDS", 60, env),
            solver_workers=_int("SOLVER_WORKERS", 2, env),
            solver_work_per_second=_float("SOLVER_WORK_PER_SECOND", 0.0, env),
            permit_documents_max_bytes_per_member=_int(
                "PERMIT_DOCUMENTS_MAX_BYTES_PER_MEMBER", 50 * 1024 * 1024, env
            ),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
