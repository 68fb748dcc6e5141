"""A permit's document: attach (typed by its first bytes, within the member's cap),
remove, read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from factoryshare import audit, i18n
from factoryshare.access import Actor
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.models import Member
from factoryshare.models.permits import Permit, PermitDocumentContent
from factoryshare.services.permits.core import entered_by, fail, may_write
from factoryshare.services.permits.records import get_permit

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The default of PERMIT_DOCUMENTS_MAX_BYTES_PER_MEMBER (factoryshare.config).
MAX_DOCUMENT_BYTES_PER_MEMBER = 50 * 1024 * 1024
DOCUMENT_KINDS = {  # magic bytes -> (mime type, file extension)
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


class DocumentStorageFull(DomainError):
    """A member's permit documents would exceed the storage cap (413, cap and use in details)."""

    code = "document_storage_full"
    status = 413


def _document_kind(content: bytes) -> tuple[str, str]:
    for magic, kind in DOCUMENT_KINDS.items():
        if content.startswith(magic):
            return kind
    raise fail("document", N_("Upload a PDF, PNG or JPEG file."))


def _used_document_bytes(session: Session, member_id: int, *, besides: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Permit.document_size), 0)).where(
                Permit.member_id == member_id, Permit.id != besides
            )
        )
        or 0
    )


def attach_document(
    session: Session,
    actor: Actor,
    permit_id: int,
    *,
    filename: str,
    content: bytes,
    member_cap_bytes: int = MAX_DOCUMENT_BYTES_PER_MEMBER,
) -> Permit:
    """Store the scanned permit in the database with the permit, replacing an earlier one.

    Typed by its magic bytes, at most 5 MB a file and `member_cap_bytes` for all of a member's
    documents (413 `document_storage_full`). The member row is locked first (FOR UPDATE on
    PostgreSQL; SQLite serialises writers anyway), so two uploads at once cannot both pass the
    cap.
    """
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    may_write(session, actor, member)
    if not content:
        raise fail("document", N_("The file is empty."))
    if len(content) > MAX_DOCUMENT_BYTES:
        raise fail("document", N_("The file is larger than 5 MB."))
    mime, ext = _document_kind(content)
    session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    used = _used_document_bytes(session, member.id, besides=permit.id)
    if used + len(content) > member_cap_bytes:
        raise DocumentStorageFull(
            N_(
                "Your permit documents would take %(needed)s, above the %(cap)s a member may "
                "keep. Remove or replace a document first.",
                needed=i18n.file_size(used + len(content)),
                cap=i18n.file_size(member_cap_bytes),
            ),
            errors={"document": [N_("There is no room left for this document.")]},
            details={"cap_bytes": member_cap_bytes, "used_bytes": used, "file_bytes": len(content)},
        )
    before = audit.snapshot(permit)
    # A replacement overwrites the old bytes in their row (without reading them first).
    replaced = session.execute(
        update(PermitDocumentContent)
        .where(PermitDocumentContent.permit_id == permit.id)
        .values(content=content, created_at=utcnow())
    )
    if not cast("CursorResult[Any]", replaced).rowcount:
        session.add(PermitDocumentContent(permit_id=permit.id, content=content))
    permit.document_mime = mime
    permit.document_size = len(content)
    permit.document_name = (
        PurePosixPath((filename or "").replace("\\", "/")).name or f"permit.{ext}"
    )[:200]
    entered_by(actor, permit, member, utcnow())
    session.flush()
    audit.record(
        session,
        actor,
        "permit.document_attached",
        permit,
        before=before,
        after=audit.snapshot(permit),
    )
    return permit


def remove_document(session: Session, actor: Actor, permit_id: int) -> Permit:
    """Delete a permit's document, bytes and all; the permit stays."""
    permit = get_permit(session, actor, permit_id)
    member = session.get(Member, permit.member_id)
    assert member is not None
    may_write(session, actor, member)
    if not permit.has_document:
        raise NotFound(N_("This permit has no document."))
    before = audit.snapshot(permit)
    session.execute(
        delete(PermitDocumentContent).where(PermitDocumentContent.permit_id == permit.id)
    )
    permit.document_mime = permit.document_size = permit.document_name = None
    entered_by(actor, permit, member, utcnow())
    session.flush()
    audit.record(
        session,
        actor,
        "permit.document_removed",
        permit,
        before=before,
        after=audit.snapshot(permit),
    )
    return permit


@dataclass(frozen=True)
class StoredDocument:
    content: bytes
    mime: str
    name: str


def document(session: Session, actor: Actor, permit_id: int) -> StoredDocument:
    """The stored document of a permit in scope, read from the database."""
    permit = get_permit(session, actor, permit_id)
    stored = session.get(PermitDocumentContent, permit.id) if permit.has_document else None
    if stored is None:
        raise NotFound(N_("This permit has no document."))
    return StoredDocument(
        content=stored.content,
        mime=permit.document_mime or "application/octet-stream",
        name=permit.document_name or "permit",
    )
