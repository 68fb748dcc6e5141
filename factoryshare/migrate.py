"""Applying the Alembic migrations from code (the CLI's `init-db`, the tests, `make run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, connection: Any | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URLs may contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, connection: Any | None = None, revision: str = "heads") -> None:
    """Bring the database to the newest schema (every head, so parallel branches apply)."""
    command.upgrade(alembic_config(url, connection), revision)
