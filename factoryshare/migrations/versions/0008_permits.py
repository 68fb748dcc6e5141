"""permits: izin edar types, requirements, permits, manager overrides, watch flags; default data

Revision ID: 0008_permits
Revises: 0002_bookings
Create Date: 2026-11-23 05:10:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = "0008_permits"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = factoryshare.db.UTCDateTime(timezone=True)

# Defaults from shared/DOMAIN.md section 3 (editable afterwards through the API).
# code, name, level, expiry, validity_years, renewal_window_days, grace_days, issuer, note
DEFAULT_TYPES = [
    ("nib", "Nomor Induk Berusaha (NIB)", "business", "none", None, 0, 0, "OSS-RBA",
     "13 digits; valid while the business operates; one per business (PP 28/2025)."),
    ("pirt", "SPP-IRT (nomor P-IRT)", "product", "required", 5, 90, 0,
     "Bupati/Wali Kota via OSS",
     "15 digits, the last two are the expiry year; 5 years, renewable. No official renewal "
     "lead time found: 90 days by default."),
    ("bpom_md", "Izin edar BPOM MD", "product", "required", 5, 90, 0, "BPOM RI",
     "BPOM RI MD + 12 digits (older) or more; valid 5 years; re-register before expiry."),
    ("bpom_ml", "Izin edar BPOM ML", "product", "required", 5, 90, 0, "BPOM RI",
     "BPOM RI ML + digits (imported food); valid 5 years."),
    ("halal", "Sertifikat halal (BPJPH)", "product", "none", None, 0, 0, "BPJPH",
     "Valid until the ingredients or the process change (UU 6/2023)."),
    ("sni", "Sertifikat SNI (SPPT-SNI)", "product", "optional", None, 90, 0, "LSPro",
     "Mandatory for some foods (bottled water, iodised salt, palm cooking oil, instant coffee, "
     "wheat flour, sugar, cocoa powder, biscuits, canned fish)."),
    ("trademark", "Merek (DJKI)", "product", "required", 10, 180, 180, "DJKI",
     "10 years from filing; renew in the last 6 months, or up to 6 months late with a fine."),
]

# (type code, sector, kind, unless_family, one_of group, note)
DEFAULT_REQUIREMENTS = [
    ("pirt", None, "processed_food", None, "food_registration",
     "Processed food needs P-IRT or a BPOM registration."),
    ("bpom_md", None, "processed_food", None, "food_registration",
     "Processed food needs P-IRT or a BPOM registration."),
    ("bpom_ml", None, "processed_food", None, "food_registration",
     "Processed food needs P-IRT or a BPOM registration."),
    ("halal", None, "processed_food", "non_halal", "halal",
     "Food and drink need a halal certificate (UMK deadline 17 Oct 2026)."),
    ("pirt", None, "beverage", None, "food_registration",
     "Drinks need P-IRT or a BPOM registration."),
    ("bpom_md", None, "beverage", None, "food_registration",
     "Drinks need P-IRT or a BPOM registration."),
    ("bpom_ml", None, "beverage", None, "food_registration",
     "Drinks need P-IRT or a BPOM registration."),
    ("halal", None, "beverage", "non_halal", "halal",
     "Food and drink need a halal certificate (UMK deadline 17 Oct 2026)."),
]


def upgrade() -> None:
    op.create_table(
        "permit_types",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Enum("business", "product", name="permit_level", native_enum=False,
                                   create_constraint=True, length=20), nullable=False),
        sa.Column("expiry", sa.Enum("none", "optional", "required", name="permit_expiry",
                                    native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column("validity_years", sa.Integer(), nullable=True),
        sa.Column("renewal_window_days", sa.Integer(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=160), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("validity_years IS NULL OR validity_years > 0",
                           name=op.f("ck_permit_types_validity_positive")),
        sa.CheckConstraint("renewal_window_days >= 0",
                           name=op.f("ck_permit_types_renewal_window_non_negative")),
        sa.CheckConstraint("grace_days >= 0", name=op.f("ck_permit_types_grace_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_types")),
        sa.UniqueConstraint("code", name=op.f("uq_permit_types_code")),
    )
    op.create_table(
        "permit_requirements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("permit_type_id", _ID, nullable=False),
        sa.Column("sector", sa.String(length=20), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=True),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("unless_family", sa.String(length=40), nullable=True),
        sa.Column("one_of", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["permit_type_id"], ["permit_types.id"],
                                name=op.f("fk_permit_requirements_permit_type_id_permit_types"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_permit_requirements_product_id_products"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_requirements")),
    )
    op.create_index(op.f("ix_permit_requirements_permit_type_id"), "permit_requirements",
                    ["permit_type_id"])
    op.create_index(op.f("ix_permit_requirements_product_id"), "permit_requirements",
                    ["product_id"])
    op.create_table(
        "permits",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("permit_type_id", _ID, nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issuer", sa.String(length=160), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.Enum("pending", "active", "needs_review", name="permit_status",
                                    native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column("review_reason", sa.String(length=300), nullable=True),
        sa.Column("last_state", sa.String(length=20), nullable=True),
        sa.Column("document_path", sa.String(length=300), nullable=True),
        sa.Column("document_mime", sa.String(length=50), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document_name", sa.String(length=200), nullable=True),
        sa.Column("reminders_sent", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on",
                           name=op.f("ck_permits_expires_after_issue")),
        sa.CheckConstraint("document_size IS NULL OR document_size >= 0",
                           name=op.f("ck_permits_document_size_non_negative")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_permits_member_id_members"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_permits_product_id_products"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["permit_type_id"], ["permit_types.id"],
                                name=op.f("fk_permits_permit_type_id_permit_types"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permits")),
    )
    op.create_index(op.f("ix_permits_member_id"), "permits", ["member_id"])
    op.create_index(op.f("ix_permits_product_id"), "permits", ["product_id"])
    op.create_index(op.f("ix_permits_permit_type_id"), "permits", ["permit_type_id"])
    op.create_table(
        "permit_overrides",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("manager_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("valid_until", _TS, nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("valid_until > valid_from",
                           name=op.f("ck_permit_overrides_until_after_from")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_permit_overrides_product_id_products"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["manager_id"], ["users.id"],
                                name=op.f("fk_permit_overrides_manager_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_overrides")),
    )
    op.create_index(op.f("ix_permit_overrides_product_id"), "permit_overrides", ["product_id"])
    op.create_table(
        "permit_flags",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("permit_id", _ID, nullable=True),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("lapse_on", sa.Date(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["permit_id"], ["permits.id"],
                                name=op.f("fk_permit_flags_permit_id_permits"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_permit_flags_product_id_products"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_flags")),
        sa.UniqueConstraint("subject", "subject_id", "key", name="uq_permit_flags_subject_key"),
    )
    op.create_index(op.f("ix_permit_flags_permit_id"), "permit_flags", ["permit_id"])
    _seed()


def _seed() -> None:
    now = dt.datetime.now(dt.timezone.utc)
    types = sa.table(
        "permit_types", sa.column("code"), sa.column("name"), sa.column("level"),
        sa.column("expiry"), sa.column("validity_years"), sa.column("renewal_window_days"),
        sa.column("grace_days"), sa.column("issuer"), sa.column("note"),
        sa.column("created_at", _TS),
    )
    op.bulk_insert(types, [
        {"code": c, "name": n, "level": lv, "expiry": ex, "validity_years": y,
         "renewal_window_days": w, "grace_days": g, "issuer": i, "note": note, "created_at": now}
        for c, n, lv, ex, y, w, g, i, note in DEFAULT_TYPES
    ])
    ids = dict(op.get_bind().execute(sa.text("SELECT code, id FROM permit_types")).all())
    requirements = sa.table(
        "permit_requirements", sa.column("permit_type_id"), sa.column("sector"),
        sa.column("kind"), sa.column("product_id"), sa.column("unless_family"),
        sa.column("one_of"), sa.column("note"), sa.column("created_at", _TS),
    )
    op.bulk_insert(requirements, [
        {"permit_type_id": ids[c], "sector": s, "kind": k, "product_id": None,
         "unless_family": u, "one_of": g, "note": note, "created_at": now}
        for c, s, k, u, g, note in DEFAULT_REQUIREMENTS
    ])


def downgrade() -> None:
    op.drop_table("permit_flags")
    op.drop_table("permit_overrides")
    op.drop_table("permits")
    op.drop_table("permit_requirements")
    op.drop_table("permit_types")
