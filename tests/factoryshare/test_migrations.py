"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from factoryshare.db import Base


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    # Index differences caused by dialect-specific expressions (exclusion constraints, the
    # GiST index on booking periods) are not model drift; everything else is.
    relevant = [
        d
        for d in diff
        if not (
            isinstance(d, tuple)
            and d[0] in ("remove_index",)
            and ("excl" in str(d) or "ix_bookings_period" in str(d))
        )
    ]
    assert relevant == []


def test_the_migrations_have_one_head():
    # New revisions revise the head; parallel branches are not added any more.
    from alembic.script import ScriptDirectory

    from factoryshare.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads() == [
        "0028_audit_order_index"
    ]
