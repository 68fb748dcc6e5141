"""permit documents in the database: their bytes move from the instance folder into a table

Revision ID: 0014_permit_documents_db
Revises: 0008_permits
Create Date: 2026-12-02 09:00:00

Each permit whose `document_path` names a file under the instance folder (FACTORYSHARE_INSTANCE,
the same setting the app reads; a caller may pass `config.attributes["instance_path"]`) gets
that file's bytes in `permit_document_contents`. A file that is missing, or a path that leads
outside the instance folder, is logged as a warning and the permit's document is cleared (the
permit stays and shows no document, so its member can upload it again). Then `document_path` is
dropped: the app no longer reads or writes files. The files themselves are left in place (a
failed upgrade rolls back and the old code still finds them); once the upgrade has committed,
`<instance>/permits/` may be deleted. A fresh database has no rows to move and never looks at
the folder.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

import factoryshare.db
from factoryshare.config import instance_path_from_env

revision = "0014_permit_documents_db"
down_revision = "0008_permits"
branch_labels = None
depends_on = None

log = logging.getLogger("factoryshare.migrations.permit_documents")

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)

_MAGIC = {b"%PDF-": ("application/pdf", "pdf"), b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
          b"\xff\xd8\xff": ("image/jpeg", "jpg")}

_permits = sa.table(
    "permits", sa.column("id", _ID), sa.column("member_id", _ID),
    sa.column("document_path", sa.String), sa.column("document_mime", sa.String),
    sa.column("document_size", sa.Integer), sa.column("document_name", sa.String),
)
_contents = sa.table(
    "permit_document_contents", sa.column("permit_id", _ID),
    sa.column("content", sa.LargeBinary), sa.column("created_at", _TS),
)


def _kind(content: bytes) -> tuple[str, str]:
    for magic, kind in _MAGIC.items():
        if content.startswith(magic):
            return kind
    return "application/octet-stream", "bin"


def move_documents(connection: Any, instance_path: Path | str) -> dict[str, int]:
    """Copy every stored document file into `permit_document_contents`.

    Returns how many were `moved` and how many were `missing` (logged, document cleared).
    """
    root = Path(instance_path).resolve()
    now = dt.datetime.now(dt.timezone.utc)
    counts = {"moved": 0, "missing": 0}
    rows = connection.execute(
        sa.select(_permits.c.id, _permits.c.member_id, _permits.c.document_path,
                  _permits.c.document_mime, _permits.c.document_name)
        .where(_permits.c.document_path.is_not(None)).order_by(_permits.c.id)).all()
    for permit_id, member_id, relative, mime, name in rows:
        file = (root / relative).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            log.warning("permit %s (member %s): document file %s is missing from %s; the "
                        "permit is kept without a document", permit_id, member_id, relative, root)
            connection.execute(sa.update(_permits).where(_permits.c.id == permit_id).values(
                document_path=None, document_mime=None, document_size=None, document_name=None))
            counts["missing"] += 1
            continue
        content = file.read_bytes()
        detected, ext = _kind(content)
        connection.execute(sa.insert(_contents).values(permit_id=permit_id, content=content,
                                                       created_at=now))
        connection.execute(sa.update(_permits).where(_permits.c.id == permit_id).values(
            document_mime=mime or detected, document_size=len(content),
            document_name=name or f"permit.{ext}"))
        counts["moved"] += 1
    # A permit has a document exactly when its size is set: clear stray metadata.
    connection.execute(sa.update(_permits).where(
        _permits.c.document_path.is_(None),
        sa.or_(_permits.c.document_size.is_not(None), _permits.c.document_mime.is_not(None),
               _permits.c.document_name.is_not(None))).values(
        document_mime=None, document_size=None, document_name=None))
    if rows:
        log.info("permit documents moved into the database: %(moved)s, missing: %(missing)s",
                 counts)
    return counts


def write_documents_back(connection: Any, instance_path: Path | str) -> int:
    """The downgrade's counterpart: each stored document back to a file, its path recorded."""
    root = Path(instance_path).resolve()
    rows = connection.execute(
        sa.select(_contents.c.permit_id, _contents.c.content, _permits.c.member_id)
        .join(_permits, _permits.c.id == _contents.c.permit_id)).all()
    for permit_id, content, member_id in rows:
        relative = Path("permits") / str(member_id) / f"{permit_id}-{uuid.uuid4().hex}.{_kind(content)[1]}"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
        connection.execute(sa.update(_permits).where(_permits.c.id == permit_id).values(
            document_path=relative.as_posix()))
    return len(rows)


def _instance_path() -> Path:
    given = context.config.attributes.get("instance_path") if context.config else None
    return Path(given) if given else instance_path_from_env()


def upgrade() -> None:
    op.create_table(
        "permit_document_contents",
        sa.Column("permit_id", _ID, autoincrement=False, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["permit_id"], ["permits.id"],
                                name=op.f("fk_permit_document_contents_permit_id_permits"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("permit_id", name=op.f("pk_permit_document_contents")),
    )
    if context.is_offline_mode():
        log.warning("offline mode: permit document files are not moved; run the upgrade online")
    else:
        move_documents(op.get_bind(), _instance_path())
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch rebuild of `permits`
    # would drop the table, and with foreign keys on, cascade-delete its flags and contents.
    op.drop_column("permits", "document_path")


def downgrade() -> None:
    op.add_column("permits", sa.Column("document_path", sa.String(length=300), nullable=True))
    if not context.is_offline_mode():
        write_documents_back(op.get_bind(), _instance_path())
    op.drop_table("permit_document_contents")
