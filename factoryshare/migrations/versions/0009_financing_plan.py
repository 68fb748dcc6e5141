"""financing plan: offtake agreements and purchases, per-member loan shares, the plan's
requests and bookings linked to the application, and disbursement tranches

Revision ID: 0009_financing_plan
Revises: 0005_financing
Create Date: 2026-11-23 05:29:44.906985
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import factoryshare.db

revision = '0009_financing_plan'
down_revision = '0005_financing'
branch_labels = None
# The plan links point at production requests (0004_scheduling).
depends_on = ('0004_scheduling',)


def upgrade() -> None:
    op.create_table('offtake_agreements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cluster_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('aggregator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', factoryshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_offtake_agreements_quantity_positive')),
    sa.CheckConstraint('unit_price > 0', name=op.f('ck_offtake_agreements_unit_price_positive')),
    sa.ForeignKeyConstraint(['aggregator_id'], ['aggregators.id'], name=op.f('fk_offtake_agreements_aggregator_id_aggregators'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_offtake_agreements_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_offtake_agreements_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_offtake_agreements_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offtake_agreements'))
    )
    with op.batch_alter_table('offtake_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offtake_agreements_aggregator_id'), ['aggregator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offtake_agreements_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offtake_agreements_product_id'), ['product_id'], unique=False)

    op.create_table('loan_plan_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('production_request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('booking_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('linked_by', sa.String(length=10), nullable=False),
    sa.Column('created_at', factoryshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(production_request_id IS NULL) <> (booking_id IS NULL)', name=op.f('ck_loan_plan_links_exactly_one_target')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_loan_plan_links_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['loan_application_id'], ['loan_applications.id'], name=op.f('fk_loan_plan_links_loan_application_id_loan_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['production_request_id'], ['production_requests.id'], name=op.f('fk_loan_plan_links_production_request_id_production_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_plan_links')),
    sa.UniqueConstraint('loan_application_id', 'booking_id', name='uq_loan_plan_links_loan_booking'),
    sa.UniqueConstraint('loan_application_id', 'production_request_id', name='uq_loan_plan_links_loan_request')
    )
    with op.batch_alter_table('loan_plan_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_plan_links_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_plan_links_loan_application_id'), ['loan_application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_plan_links_production_request_id'), ['production_request_id'], unique=False)

    op.create_table('loan_shares',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('machine_minutes', sa.Integer(), nullable=False),
    sa.Column('machine_cost', sa.BigInteger(), nullable=False),
    sa.Column('material_cost', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loan_shares_amount_positive')),
    sa.CheckConstraint('machine_cost >= 0', name=op.f('ck_loan_shares_machine_cost_non_negative')),
    sa.CheckConstraint('machine_minutes >= 0', name=op.f('ck_loan_shares_machine_minutes_non_negative')),
    sa.CheckConstraint('material_cost >= 0', name=op.f('ck_loan_shares_material_cost_non_negative')),
    sa.ForeignKeyConstraint(['loan_application_id'], ['loan_applications.id'], name=op.f('fk_loan_shares_loan_application_id_loan_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_loan_shares_member_id_members'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_shares')),
    sa.UniqueConstraint('loan_application_id', 'member_id', name='uq_loan_shares_loan_member')
    )
    with op.batch_alter_table('loan_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_shares_loan_application_id'), ['loan_application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_shares_member_id'), ['member_id'], unique=False)

    op.create_table('loan_tranches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', factoryshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loan_tranches_amount_positive')),
    sa.ForeignKeyConstraint(['loan_application_id'], ['loan_applications.id'], name=op.f('fk_loan_tranches_loan_application_id_loan_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_loan_tranches_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_tranches'))
    )
    with op.batch_alter_table('loan_tranches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_tranches_loan_application_id'), ['loan_application_id'], unique=False)

    op.create_table('offtake_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_offtake_deliveries_quantity_positive')),
    sa.ForeignKeyConstraint(['agreement_id'], ['offtake_agreements.id'], name=op.f('fk_offtake_deliveries_agreement_id_offtake_agreements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offtake_deliveries')),
    sa.UniqueConstraint('agreement_id', 'due_on', name='uq_offtake_deliveries_agreement_due_on')
    )
    with op.batch_alter_table('offtake_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offtake_deliveries_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('offtake_purchases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('repaid', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', factoryshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_offtake_purchases_amount_positive')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_offtake_purchases_quantity_positive')),
    sa.CheckConstraint('repaid >= 0 AND repaid <= amount', name=op.f('ck_offtake_purchases_repaid_within_amount')),
    sa.ForeignKeyConstraint(['agreement_id'], ['offtake_agreements.id'], name=op.f('fk_offtake_purchases_agreement_id_offtake_agreements'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_application_id'], ['loan_applications.id'], name=op.f('fk_offtake_purchases_loan_application_id_loan_applications'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_offtake_purchases_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_offtake_purchases_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offtake_purchases'))
    )
    with op.batch_alter_table('offtake_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offtake_purchases_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offtake_purchases_loan_application_id'), ['loan_application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offtake_purchases_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offtake_purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_repayments_offtake_purchase_id'), ['offtake_purchase_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_repayments_offtake_purchase_id_offtake_purchases'), 'offtake_purchases', ['offtake_purchase_id'], ['id'], ondelete='RESTRICT')



def downgrade() -> None:
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_repayments_offtake_purchase_id_offtake_purchases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_repayments_offtake_purchase_id'))
        batch_op.drop_column('offtake_purchase_id')

    with op.batch_alter_table('offtake_purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offtake_purchases_member_id'))
        batch_op.drop_index(batch_op.f('ix_offtake_purchases_loan_application_id'))
        batch_op.drop_index(batch_op.f('ix_offtake_purchases_agreement_id'))

    op.drop_table('offtake_purchases')
    with op.batch_alter_table('offtake_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offtake_deliveries_agreement_id'))

    op.drop_table('offtake_deliveries')
    with op.batch_alter_table('loan_tranches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_tranches_loan_application_id'))

    op.drop_table('loan_tranches')
    with op.batch_alter_table('loan_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_shares_member_id'))
        batch_op.drop_index(batch_op.f('ix_loan_shares_loan_application_id'))

    op.drop_table('loan_shares')
    with op.batch_alter_table('loan_plan_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_plan_links_production_request_id'))
        batch_op.drop_index(batch_op.f('ix_loan_plan_links_loan_application_id'))
        batch_op.drop_index(batch_op.f('ix_loan_plan_links_booking_id'))

    op.drop_table('loan_plan_links')
    with op.batch_alter_table('offtake_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offtake_agreements_product_id'))
        batch_op.drop_index(batch_op.f('ix_offtake_agreements_cluster_id'))
        batch_op.drop_index(batch_op.f('ix_offtake_agreements_aggregator_id'))

    op.drop_table('offtake_agreements')
