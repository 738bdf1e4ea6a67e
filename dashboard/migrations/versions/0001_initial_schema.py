"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-02 13:54:51.798190
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('filters', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_username'), ['username'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title_fr', sa.String(length=400), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=8), server_default='XOF', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code'))
    )
    op.create_table('referral_targets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('org_type', sa.String(length=48), nullable=False),
    sa.Column('service_type', sa.String(length=48), nullable=True),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_targets')),
    sa.UniqueConstraint('org_type', 'service_type', name=op.f('uq_referral_targets_org_type_service_type'))
    )
    op.create_table('regions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('org_type', sa.String(length=48), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_organisations_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_organisations_code'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_region_id'), ['region_id'], unique=False)

    op.create_table('plan_objectives',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('pillar', sa.String(length=16), nullable=False),
    sa.Column('title_fr', sa.String(length=400), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_objectives_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_objectives')),
    sa.UniqueConstraint('code', name=op.f('uq_plan_objectives_code'))
    )
    with op.batch_alter_table('plan_objectives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_objectives_plan_id'), ['plan_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=24), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('is_minor', sa.Boolean(), nullable=True),
    sa.Column('nationality', sa.String(length=2), nullable=True),
    sa.Column('is_foreign', sa.Boolean(), nullable=True),
    sa.Column('trafficking_status', sa.String(length=24), nullable=False),
    sa.Column('status_decided_by', sa.String(length=32), nullable=True),
    sa.Column('identified_on', sa.Date(), nullable=False),
    sa.Column('identified_by_org_id', sa.Integer(), nullable=True),
    sa.Column('case_status', sa.String(length=24), nullable=False),
    sa.Column('owner_org_id', sa.Integer(), nullable=True),
    sa.Column('current_stage', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), server_default='manual', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['identified_by_org_id'], ['organisations.id'], name=op.f('fk_cases_identified_by_org_id_organisations')),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organisations.id'], name=op.f('fk_cases_owner_org_id_organisations')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_cases_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('code', name=op.f('uq_cases_code'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_identified_by_org_id'), ['identified_by_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_identified_on'), ['identified_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_person_hash'), ['person_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_cases_region_identified', ['region_id', 'identified_on'], unique=False)

    op.create_table('plan_activities',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('pillar', sa.String(length=16), nullable=False),
    sa.Column('title_fr', sa.String(length=500), nullable=False),
    sa.Column('title_en', sa.String(length=500), nullable=False),
    sa.Column('lead_org_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('budget_planned', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('budget_spent', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['lead_org_id'], ['organisations.id'], name=op.f('fk_plan_activities_lead_org_id_organisations')),
    sa.ForeignKeyConstraint(['objective_id'], ['plan_objectives.id'], name=op.f('fk_plan_activities_objective_id_plan_objectives'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_plan_activities_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_activities')),
    sa.UniqueConstraint('code', name=op.f('uq_plan_activities_code'))
    )
    with op.batch_alter_table('plan_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_activities_lead_org_id'), ['lead_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_activities_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_activities_region_id'), ['region_id'], unique=False)

    op.create_table('projects',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title_fr', sa.String(length=400), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('donor', sa.String(length=200), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_projects_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('code', name=op.f('uq_projects_code'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('shelters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_shelters_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_shelters_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelters')),
    sa.UniqueConstraint('code', name=op.f('uq_shelters_code'))
    )
    with op.batch_alter_table('shelters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelters_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shelters_region_id'), ['region_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('can_import', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('activity_partners',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['plan_activities.id'], name=op.f('fk_activity_partners_activity_id_plan_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_activity_partners_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('activity_id', 'organisation_id', name=op.f('pk_activity_partners'))
    )
    op.create_table('activity_status_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('evidence_note', sa.Text(), nullable=True),
    sa.Column('budget_spent', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['plan_activities.id'], name=op.f('fk_activity_status_history_activity_id_plan_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_status_history'))
    )
    with op.batch_alter_table('activity_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_status_history_activity_id'), ['activity_id'], unique=False)

    op.create_table('case_control_methods',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_control_methods_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'method', name=op.f('pk_case_control_methods'))
    )
    op.create_table('case_exploitation',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('exploitation_type', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_exploitation_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'exploitation_type', name=op.f('pk_case_exploitation'))
    )
    op.create_table('project_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title_fr', sa.String(length=400), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['project_results.id'], name=op.f('fk_project_results_parent_id_project_results')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_results_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_results')),
    sa.UniqueConstraint('code', name=op.f('uq_project_results_code'))
    )
    with op.batch_alter_table('project_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_results_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_results_project_id'), ['project_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_org_id', sa.Integer(), nullable=False),
    sa.Column('to_org_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=48), nullable=True),
    sa.Column('service_type', sa.String(length=48), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('decline_reason', sa.String(length=32), nullable=True),
    sa.Column('first_service_on', sa.Date(), nullable=True),
    sa.Column('days_to_acknowledge', sa.Integer(), nullable=True),
    sa.Column('days_to_decision', sa.Integer(), nullable=True),
    sa.Column('days_to_first_service', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_org_id'], ['organisations.id'], name=op.f('fk_referrals_from_org_id_organisations')),
    sa.ForeignKeyConstraint(['to_org_id'], ['organisations.id'], name=op.f('fk_referrals_to_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('code', name=op.f('uq_referrals_code'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_referrals_decided', ['decided_on'], unique=False)
        batch_op.create_index('ix_referrals_pair', ['from_org_id', 'to_org_id'], unique=False)
        batch_op.create_index('ix_referrals_sent', ['sent_on'], unique=False)
        batch_op.create_index('ix_referrals_to_sent', ['to_org_id', 'sent_on'], unique=False)

    op.create_table('shelter_capacity',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('beds_women', sa.Integer(), server_default='0', nullable=False),
    sa.Column('beds_men', sa.Integer(), server_default='0', nullable=False),
    sa.Column('beds_girls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('beds_boys', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_capacity_shelter_id_shelters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_capacity')),
    sa.UniqueConstraint('shelter_id', 'valid_from', name=op.f('uq_shelter_capacity_shelter_id_valid_from'))
    )
    with op.batch_alter_table('shelter_capacity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelter_capacity_shelter_id'), ['shelter_id'], unique=False)

    op.create_table('shelter_stays',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=True),
    sa.Column('exit_destination', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_shelter_stays_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_stays_shelter_id_shelters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_stays')),
    sa.UniqueConstraint('case_id', 'shelter_id', 'entered_on', name=op.f('uq_shelter_stays_case_id_shelter_id_entered_on'))
    )
    with op.batch_alter_table('shelter_stays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelter_stays_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_shelter_stays_shelter_dates', ['shelter_id', 'entered_on', 'exited_on'], unique=False)

    op.create_table('stage_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_stage_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stage_events_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_events')),
    sa.UniqueConstraint('case_id', 'stage', 'occurred_on', name=op.f('uq_stage_events_case_id_stage_occurred_on'))
    )
    with op.batch_alter_table('stage_events', schema=None) as batch_op:
        batch_op.create_index('ix_stage_events_stage_date', ['stage', 'occurred_on'], unique=False)

    op.create_table('user_regions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_user_regions_region_id_regions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_regions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'region_id', name=op.f('pk_user_regions'))
    )
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('label_fr', sa.String(length=400), nullable=False),
    sa.Column('label_en', sa.String(length=400), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=False),
    sa.Column('baseline_on', sa.Date(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('target_on', sa.Date(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('disaggregation', sa.String(length=16), server_default='none', nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('computation', sa.String(length=48), nullable=True),
    sa.ForeignKeyConstraint(['result_id'], ['project_results.id'], name=op.f('fk_indicators_result_id_project_results'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('code', name=op.f('uq_indicators_code'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_result_id'), ['result_id'], unique=False)

    op.create_table('services',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('service_type', sa.String(length=48), nullable=False),
    sa.Column('provider_org_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_services_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'], name=op.f('fk_services_provider_org_id_organisations')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_services_referral_id_referrals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('code', name=op.f('uq_services_code'))
    )
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_services_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_services_provider_org_id'), ['provider_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_services_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_services_started_on'), ['started_on'], unique=False)

    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=24), server_default='all', nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index('ix_indicator_values_lookup', ['indicator_id', 'period_end', 'sex'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_lookup')
        batch_op.drop_index(batch_op.f('ix_indicator_values_indicator_id'))

    op.drop_table('indicator_values')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_services_started_on'))
        batch_op.drop_index(batch_op.f('ix_services_referral_id'))
        batch_op.drop_index(batch_op.f('ix_services_provider_org_id'))
        batch_op.drop_index(batch_op.f('ix_services_case_id'))

    op.drop_table('services')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_result_id'))

    op.drop_table('indicators')
    op.drop_table('user_regions')
    with op.batch_alter_table('stage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_events_stage_date')

    op.drop_table('stage_events')
    with op.batch_alter_table('shelter_stays', schema=None) as batch_op:
        batch_op.drop_index('ix_shelter_stays_shelter_dates')
        batch_op.drop_index(batch_op.f('ix_shelter_stays_case_id'))

    op.drop_table('shelter_stays')
    with op.batch_alter_table('shelter_capacity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shelter_capacity_shelter_id'))

    op.drop_table('shelter_capacity')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_to_sent')
        batch_op.drop_index('ix_referrals_sent')
        batch_op.drop_index('ix_referrals_pair')
        batch_op.drop_index('ix_referrals_decided')
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('project_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_results_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_results_parent_id'))

    op.drop_table('project_results')
    op.drop_table('case_exploitation')
    op.drop_table('case_control_methods')
    with op.batch_alter_table('activity_status_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_status_history_activity_id'))

    op.drop_table('activity_status_history')
    op.drop_table('activity_partners')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('shelters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shelters_region_id'))
        batch_op.drop_index(batch_op.f('ix_shelters_organisation_id'))

    op.drop_table('shelters')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_organisation_id'))

    op.drop_table('projects')
    with op.batch_alter_table('plan_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_activities_region_id'))
        batch_op.drop_index(batch_op.f('ix_plan_activities_objective_id'))
        batch_op.drop_index(batch_op.f('ix_plan_activities_lead_org_id'))

    op.drop_table('plan_activities')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_region_identified')
        batch_op.drop_index(batch_op.f('ix_cases_region_id'))
        batch_op.drop_index(batch_op.f('ix_cases_person_hash'))
        batch_op.drop_index(batch_op.f('ix_cases_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_cases_identified_on'))
        batch_op.drop_index(batch_op.f('ix_cases_identified_by_org_id'))

    op.drop_table('cases')
    with op.batch_alter_table('plan_objectives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_objectives_plan_id'))

    op.drop_table('plan_objectives')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_region_id'))

    op.drop_table('organisations')
    op.drop_table('regions')
    op.drop_table('referral_targets')
    op.drop_table('plans')
    op.drop_table('meta')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_username'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
