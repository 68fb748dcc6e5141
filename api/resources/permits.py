"""Izin edar: permits with their documents and verification, overrides, overview. The
reference data they are checked against has its own modules: permit_types and
permit_requirements."""

from __future__ import annotations

import datetime as dt
import io

import marshmallow as ma
from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import validate

from api.database import db, runtime
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Schema,
    Text,
    page_schema,
    paginate,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.permits import PermitStatus
from factoryshare.services import permits

URL_PREFIX = "/permits"
blp = Blueprint("permits", __name__, description="Izin edar: permits of members and products")

DATES = validate.Range(min=dt.date(1950, 1, 1), max=dt.date(2200, 12, 31))
STATUSES = [s.value for s in PermitStatus]


@blp.before_request
def _upload_limit() -> None:
    # Documents may be up to 5 MB, above the service-wide request limit.
    if request.endpoint and request.endpoint.endswith("PermitDocument"):
        request.max_content_length = permits.MAX_DOCUMENT_BYTES + 64 * 1024


# -- permits ----------------------------------------------------------------------------------


def QueryId() -> ma.fields.Integer:
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class PermitArgs(PageArgs):
    member_id = QueryId()
    product_id = QueryId()
    permit_type = Text(20, min_length=1)
    state = ma.fields.String(validate=validate.OneOf(permits.STATES))
    verification = ma.fields.String(validate=validate.OneOf(permits.VERIFICATIONS))


class PermitUpdate(Schema):
    number = Text(60, allow_none=True)
    issuer = Text(160)
    issued_on = ma.fields.Date(allow_none=True, validate=DATES)
    expires_on = ma.fields.Date(
        allow_none=True,
        validate=DATES,
        metadata={"description": "last valid day (house time); none for NIB and halal"},
    )
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    note = Text(
        500,
        metadata={
            "description": "required (a manager of the member's house or an "
            "admin) to move a certificate out of "
            "needs_review"
        },
    )


class PermitCreate(PermitUpdate):
    permit_type = Text(20, min_length=1, required=True, metadata={"description": "type code"})
    product_id = Id(metadata={"description": "the product; leave out for a business permit (NIB)"})
    member_id = Id(metadata={"description": "for a business permit; a member's own by default"})


class PermitSchema(Schema):
    id = Id(dump_only=True)
    member_id = Id(dump_only=True)
    product_id = Id(dump_only=True, allow_none=True)
    permit_type = ma.fields.Function(lambda p: p.permit_type.code, dump_only=True)
    permit_type_name = ma.fields.Function(lambda p: p.permit_type.name, dump_only=True)
    number = ma.fields.String(dump_only=True)
    issuer = ma.fields.String(dump_only=True)
    issued_on = ma.fields.Date(dump_only=True, allow_none=True)
    expires_on = ma.fields.Date(dump_only=True, allow_none=True)
    status = ma.fields.Function(lambda p: p.status.value, dump_only=True)
    state = ma.fields.Function(
        lambda p: permits.state(db(), p),
        dump_only=True,
        metadata={
            "description": "valid, expiring, expired, pending or "
            "needs_review, today in the house's zone"
        },
    )
    days_left = ma.fields.Function(
        lambda p: permits.days_left(db(), p), dump_only=True, allow_none=True
    )
    review_reason = ma.fields.String(dump_only=True, allow_none=True)
    verification = ma.fields.Function(
        lambda p: p.verification.value,
        dump_only=True,
        metadata={
            "description": "submitted (the member's entry, not checked yet), verified or "
            "rejected; separate from the date-derived `state`"
        },
    )
    verification_by_id = ma.fields.Function(
        lambda p: p.last_verification.by_id if p.last_verification else None,
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "the user who verified or rejected it, or "
            "who entered or changed it (submitted)"
        },
    )
    verification_at = ma.fields.Function(
        lambda p: p.last_verification.at.isoformat() if p.last_verification else None,
        dump_only=True,
        allow_none=True,
        metadata={"description": "when (ISO 8601, UTC)"},
    )
    verification_note = ma.fields.Function(
        lambda p: p.last_verification.note if p.last_verification else None,
        dump_only=True,
        allow_none=True,
        metadata={"description": "the verifier's note; a rejection's reason"},
    )
    counts_for_gate = ma.fields.Function(
        lambda p: permits.counts_for_gate(db(), p),
        dump_only=True,
        metadata={
            "description": "whether this entry counts at the gate: verified, or submitted "
            "in a house that trusts its members' entries"
        },
    )
    reminders_sent = ma.fields.List(ma.fields.Integer(), dump_only=True)
    document = ma.fields.Function(
        lambda p: (
            None
            if not p.has_document
            else {"name": p.document_name, "mime": p.document_mime, "size": p.document_size}
        ),
        dump_only=True,
        allow_none=True,
    )
    created_at = AwareDateTime(dump_only=True)
    updated_at = AwareDateTime(dump_only=True)


PermitPage = page_schema(PermitSchema, "PermitPage")


class VerifyBody(Schema):
    note = Text(500, metadata={"description": "what was checked (e.g. found in OSS / BPOM)"})


class RejectBody(Schema):
    reason = Text(
        500,
        min_length=5,
        required=True,
        metadata={"description": "what is wrong, told to the member"},
    )


class ReviewBody(Schema):
    note = Text(
        500,
        min_length=5,
        required=True,
        metadata={"description": "why the certificate still holds after the change"},
    )


class DocumentUpload(Schema):
    document = Upload(required=True, metadata={"description": "PDF, PNG or JPEG, at most 5 MB"})


class OverviewArgs(Schema):
    house_id = QueryId()
    cluster_id = QueryId()


class GapSchema(Schema):
    group = ma.fields.String()
    types = ma.fields.List(ma.fields.String())
    problem = ma.fields.String()
    lapse_on = ma.fields.String(allow_none=True)
    permit_id = ma.fields.Integer(allow_none=True)
    verification = ma.fields.String(allow_none=True)


class BlockedProduct(Schema):
    product_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    name = ma.fields.String()
    missing = ma.fields.List(ma.fields.Nested(GapSchema))


class OverviewSchema(Schema):
    house_id = ma.fields.Integer(allow_none=True)
    cluster_id = ma.fields.Integer(allow_none=True)
    members = ma.fields.Integer()
    valid = ma.fields.Integer()
    expiring = ma.fields.Integer()
    expired = ma.fields.Integer()
    pending = ma.fields.Integer()
    needs_review = ma.fields.Integer()
    verification = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "permits per verification: submitted, verified, rejected"},
    )
    blocked_products = ma.fields.List(ma.fields.Nested(BlockedProduct))


class OverrideCreate(Schema):
    product_id = Id(required=True)
    reason = Text(500, min_length=5, required=True)
    valid_from = AwareDateTime(metadata={"description": "now when left out"})
    until = AwareDateTime(required=True)


class OverrideSchema(Schema):
    id = Id(dump_only=True)
    product_id = Id(dump_only=True)
    manager_id = ma.fields.Integer(dump_only=True, allow_none=True)
    reason = ma.fields.String(dump_only=True)
    valid_from = AwareDateTime(dump_only=True)
    valid_until = AwareDateTime(dump_only=True)
    revoked = ma.fields.Boolean(dump_only=True)
    created_at = AwareDateTime(dump_only=True)


OverridePage = page_schema(OverrideSchema, "OverridePage")


class OverrideArgs(PageArgs):
    product_id = QueryId()


def _page(items: list, paging: dict) -> dict:
    page, size = paging.get("page", 1), paging.get("page_size", 20)
    return {
        "items": items[(page - 1) * size : page * size],
        "page": page,
        "page_size": size,
        "total": len(items),
    }


@blp.route("")
class Permits(MethodView):
    @allow()
    @blp.arguments(PermitArgs, location="query")
    @blp.response(200, PermitPage)
    def get(self, args):
        """Permits in my scope (filter by member, product, type or derived state)"""
        filters, paging = strip_page(args)
        if "state" in filters:
            filters["state_filter"] = filters.pop("state")
        return _page(permits.list_permits(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(PermitCreate)
    @blp.response(201, PermitSchema)
    def post(self, data):
        """Record a permit (number checked against its type's format)"""
        return permits.create_permit(db(), current_actor(), data)


@blp.route("/overview")
class PermitOverview(MethodView):
    @allow(Role.admin, Role.manager, Role.aggregator)
    @blp.arguments(OverviewArgs, location="query")
    @blp.response(200, OverviewSchema)
    def get(self, args):
        """Permits valid, expiring and expired, and the products blocked, per house or cluster"""
        return permits.overview(db(), current_actor(), **args)


@blp.route("/overrides")
class PermitOverrides(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(OverrideArgs, location="query")
    @blp.response(200, OverridePage)
    def get(self, args):
        """Manager overrides in my scope, a page at a time, by id"""
        filters, paging = strip_page(args)
        return paginate(db(), permits.list_overrides(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.manager)
    @blp.arguments(OverrideCreate)
    @blp.response(201, OverrideSchema)
    def post(self, data):
        """Let a product be produced without its permits until a time, for a reason (audited)"""
        return permits.create_override(db(), current_actor(), data)


@blp.route("/overrides/<int:override_id>")
class PermitOverrideById(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, OverrideSchema)
    def delete(self, override_id):
        """Revoke an override (kept, marked revoked)"""
        return permits.revoke_override(db(), current_actor(), override_id)


@blp.route("/<int:permit_id>")
class PermitById(MethodView):
    @allow()
    @blp.response(200, PermitSchema)
    def get(self, permit_id):
        """One permit with its derived state"""
        return permits.get_permit(db(), current_actor(), permit_id)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(PermitUpdate)
    @blp.response(200, PermitSchema)
    def patch(self, data, permit_id):
        """Change a permit (a new expiry date re-arms its reminders; a member's change of number,
        dates or issue makes it submitted again)"""
        return permits.update_permit(db(), current_actor(), permit_id, data)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(204)
    def delete(self, permit_id):
        """Remove a permit"""
        permits.delete_permit(db(), current_actor(), permit_id)


@blp.route("/<int:permit_id>/verify")
class PermitVerify(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(VerifyBody)
    @blp.response(200, PermitSchema)
    @blp.alt_response(409, description="Verified already (`invalid_transition`)")
    def post(self, data, permit_id):
        """Verify a member's permit: its number and document were checked (audited)"""
        return permits.verify_permit(db(), current_actor(), permit_id, note=data.get("note", ""))


@blp.route("/<int:permit_id>/reject-verification")
class PermitRejectVerification(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(RejectBody)
    @blp.response(200, PermitSchema)
    @blp.alt_response(409, description="Rejected already (`invalid_transition`)")
    def post(self, data, permit_id):
        """Reject a member's permit entry with a reason (the member is told; audited)"""
        return permits.reject_permit(db(), current_actor(), permit_id, reason=data["reason"])


@blp.route("/<int:permit_id>/clear-review")
class PermitClearReview(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(ReviewBody)
    @blp.response(200, PermitSchema)
    @blp.alt_response(409, description="Not in needs_review (`invalid_transition`)")
    def post(self, data, permit_id):
        """Mark a halal certificate in needs_review valid again, with a note (audited)"""
        return permits.clear_review(db(), current_actor(), permit_id, note=data["note"])


@blp.route("/<int:permit_id>/document")
class PermitDocument(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(DocumentUpload, location="files")
    @blp.response(200, PermitSchema)
    @blp.alt_response(
        413,
        description="The file is above 5 MB, or the member's documents "
        "would exceed its storage cap (`document_storage_full`, "
        "`details.cap_bytes` and `details.used_bytes`)",
    )
    def post(self, files, permit_id):
        """Upload or replace the scanned permit (PDF, PNG or JPEG by content, at most 5 MB)"""
        upload = files["document"]
        content = upload.read(permits.MAX_DOCUMENT_BYTES + 1)
        return permits.attach_document(
            db(),
            current_actor(),
            permit_id,
            filename=upload.filename or "",
            content=content,
            member_cap_bytes=runtime().settings.permit_documents_max_bytes_per_member,
        )

    @allow()
    @blp.response(
        200,
        content_type="application/octet-stream",
        description="The stored file, with its own content type",
    )
    def get(self, permit_id):
        """Download the permit's document"""
        stored = permits.document(db(), current_actor(), permit_id)
        response = send_file(
            io.BytesIO(stored.content),
            mimetype=stored.mime,
            as_attachment=True,
            download_name=stored.name,
            etag=False,
            conditional=False,
            max_age=0,
        )
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(200, PermitSchema)
    def delete(self, permit_id):
        """Remove the permit's document (the permit stays)"""
        return permits.remove_document(db(), current_actor(), permit_id)
