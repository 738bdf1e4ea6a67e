"""performance: indexes and derived tables for the pages' queries (issue 9)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- helper-A: bottlenecks and summary (covering indexes on referrals, derived tables)
    op.drop_index('ix_referrals_sent', table_name='referrals')
    op.drop_index('ix_referrals_decided', table_name='referrals')
    op.create_index('ix_referrals_sent_pair', 'referrals', ['sent_on', 'from_org_id', 'to_org_id', 'case_id'])
    op.create_index('ix_referrals_acknowledged_pair', 'referrals',
                    ['acknowledged_on', 'from_org_id', 'to_org_id', 'days_to_acknowledge', 'case_id'])
    op.create_index('ix_referrals_decided_pair', 'referrals',
                    ['decided_on', 'from_org_id', 'to_org_id', 'outcome', 'decline_reason', 'days_to_decision',
                     'service_type', 'case_id'])
    op.create_index('ix_referrals_first_service_pair', 'referrals',
                    ['first_service_on', 'from_org_id', 'to_org_id', 'days_to_first_service', 'case_id'])
    op.create_table('stage_spans',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('entered', sa.Date(), nullable=False),
    sa.Column('next_on', sa.Date(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_stage_spans_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'stage', name=op.f('pk_stage_spans'))
    )
    op.create_index('ix_stage_spans_next', 'stage_spans', ['next_on', 'stage', 'entered', 'days', 'case_id'])
    op.create_table('stage_span_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('days', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'stage', 'days', name=op.f('pk_stage_span_months'))
    )
    op.create_table('case_first_service',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('first_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_first_service_case_id_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_first_service'))
    )
    op.create_index('ix_case_first_service_first_on', 'case_first_service', ['first_on', 'case_id'])
    # fill them from the rows already there (a database from before this revision)
    from dashboard import derived
    derived.refresh(op.get_bind())
    # -- end helper-A
    # -- helper-B: case review agenda (open cases by identification date, services per case)
    op.create_index('ix_cases_status_identified', 'cases', ['case_status', 'identified_on'])
    op.create_index('ix_services_case_dates', 'services', ['case_id', 'started_on', 'ended_on'])
    # -- end helper-B


def downgrade() -> None:
    # -- helper-B: case review agenda
    op.drop_index('ix_services_case_dates', table_name='services')
    op.drop_index('ix_cases_status_identified', table_name='cases')
    # -- end helper-B
    # -- helper-A: bottlenecks and summary
    op.drop_index('ix_case_first_service_first_on', table_name='case_first_service')
    op.drop_table('case_first_service')
    op.drop_table('stage_span_months')
    op.drop_index('ix_stage_spans_next', table_name='stage_spans')
    op.drop_table('stage_spans')
    op.drop_index('ix_referrals_first_service_pair', table_name='referrals')
    op.drop_index('ix_referrals_decided_pair', table_name='referrals')
    op.drop_index('ix_referrals_acknowledged_pair', table_name='referrals')
    op.drop_index('ix_referrals_sent_pair', table_name='referrals')
    op.create_index('ix_referrals_decided', 'referrals', ['decided_on'])
    op.create_index('ix_referrals_sent', 'referrals', ['sent_on'])
    # -- end helper-A
