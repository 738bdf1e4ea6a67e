"""The data model, in one place (SQLAlchemy Core).

Vocabulary and definitions: ../shared/DOMAIN.md. Survivors are known only by a
pseudonymous case code and, for imported cases, a keyed hash of their identity:
no table may hold names, birth dates, addresses, phone numbers, e-mails or
identity-document numbers (tests/test_schema.py enforces it).

Dates of events are DATE columns. Referral intervals are also stored as whole
days (``days_to_*``) when a referral is written (see ``dashboard.domain.referral_intervals``),
so medians are computed over integers on both SQLite and PostgreSQL.
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_id = lambda: sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)  # noqa: E731


def _fk(name: str, target: str, nullable: bool = True, index: bool = True, ondelete: str | None = None) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


# ---------------------------------------------------------------- reference
meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

regions = sa.Table(
    "regions",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("population", sa.Integer, nullable=True),
)

organisations = sa.Table(
    "organisations",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("org_type", sa.String(48), nullable=False),
    _fk("region_id", "regions.id"),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

referral_targets = sa.Table(
    "referral_targets",
    metadata,
    _id(),
    # Target days from sending a referral to the receiver's decision. A row with
    # service_type NULL applies to every service of that receiving organisation type;
    # a row with a service_type is more specific and wins.
    sa.Column("org_type", sa.String(48), nullable=False),
    sa.Column("service_type", sa.String(48), nullable=True),
    sa.Column("days", sa.Integer, nullable=False),
    sa.UniqueConstraint("org_type", "service_type"),
)

# ---------------------------------------------------------------- cases
cases = sa.Table(
    "cases",
    metadata,
    _id(),
    sa.Column("code", sa.String(40), nullable=False, unique=True),  # pseudonymous
    sa.Column("person_hash", sa.String(64), nullable=True, index=True),  # HMAC, never reversible here
    _fk("region_id", "regions.id", nullable=False),
    sa.Column("sex", sa.String(24), nullable=False),  # female | male | trans_nonconforming | unknown
    sa.Column("age_band", sa.String(8), nullable=False),  # CTDC bands: 0-8, 9-17, 18-20, ..., 48+, unknown
    sa.Column("is_minor", sa.Boolean, nullable=True),
    sa.Column("nationality", sa.String(2), nullable=True),  # ISO 3166 alpha-2
    sa.Column("is_foreign", sa.Boolean, nullable=True),
    sa.Column("trafficking_status", sa.String(24), nullable=False),  # possible | actual | not_victim
    sa.Column("status_decided_by", sa.String(32), nullable=True),
    sa.Column("identified_on", sa.Date, nullable=False, index=True),
    _fk("identified_by_org_id", "organisations.id"),
    sa.Column("case_status", sa.String(24), nullable=False),  # active | follow_up | closed | closed_referred
    _fk("owner_org_id", "organisations.id"),  # who holds the case now (never rewrites history)
    sa.Column("current_stage", sa.String(32), nullable=False),
    sa.Column("source", sa.String(16), nullable=False, server_default="manual"),  # demo | import | manual
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Index("ix_cases_region_identified", "region_id", "identified_on"),
    # the open cases identified before a day (the case review agenda, dashboard.queries.review)
    sa.Index("ix_cases_status_identified", "case_status", "identified_on"),
)

case_exploitation = sa.Table(
    "case_exploitation",
    metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("exploitation_type", sa.String(40), primary_key=True),
)

case_control_methods = sa.Table(
    "case_control_methods",
    metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("method", sa.String(40), primary_key=True),
)

stage_events = sa.Table(
    "stage_events",
    metadata,
    _id(),
    _fk("case_id", "cases.id", nullable=False, index=False, ondelete="CASCADE"),
    # referral chain: detection, identification, immediate_assistance, protection,
    # return_reintegration, closed; justice track: complaint, investigation,
    # prosecution, judgement (outcome: conviction | acquittal | dismissed)
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    _fk("organisation_id", "organisations.id", index=False),
    sa.Column("outcome", sa.String(24), nullable=True),
    sa.UniqueConstraint("case_id", "stage", "occurred_on"),
    sa.Index("ix_stage_events_stage_date", "stage", "occurred_on"),
)

referrals = sa.Table(
    "referrals",
    metadata,
    _id(),
    sa.Column("code", sa.String(48), nullable=False, unique=True),
    _fk("case_id", "cases.id", nullable=False, ondelete="CASCADE"),
    _fk("from_org_id", "organisations.id", nullable=False, index=False),
    _fk("to_org_id", "organisations.id", nullable=False, index=False),
    sa.Column("reason", sa.String(48), nullable=True),  # additional_services | migration_or_change_of_location | other
    sa.Column("service_type", sa.String(48), nullable=True),  # the service asked for
    sa.Column("sent_on", sa.Date, nullable=False),
    sa.Column("acknowledged_on", sa.Date, nullable=True),
    sa.Column("decided_on", sa.Date, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),  # accepted | declined
    sa.Column("decline_reason", sa.String(32), nullable=True),  # no_capacity | not_eligible | person_refused | other
    sa.Column("first_service_on", sa.Date, nullable=True),
    sa.Column("days_to_acknowledge", sa.Integer, nullable=True),
    sa.Column("days_to_decision", sa.Integer, nullable=True),
    sa.Column("days_to_first_service", sa.Integer, nullable=True),
    # One index per date column, each covering what the bottleneck figures read of the
    # referrals whose date falls in a period (dashboard.queries.bottlenecks): the pair, the
    # interval, the decision, the service asked for and the case (for the case filters).
    sa.Index("ix_referrals_sent_pair", "sent_on", "from_org_id", "to_org_id", "case_id"),
    sa.Index("ix_referrals_acknowledged_pair", "acknowledged_on", "from_org_id", "to_org_id",
             "days_to_acknowledge", "case_id"),
    sa.Index("ix_referrals_decided_pair", "decided_on", "from_org_id", "to_org_id", "outcome", "decline_reason",
             "days_to_decision", "service_type", "case_id"),
    sa.Index("ix_referrals_first_service_pair", "first_service_on", "from_org_id", "to_org_id",
             "days_to_first_service", "case_id"),
    sa.Index("ix_referrals_pair", "from_org_id", "to_org_id"),
    sa.Index("ix_referrals_to_sent", "to_org_id", "sent_on"),
)

services = sa.Table(
    "services",
    metadata,
    _id(),
    sa.Column("code", sa.String(48), nullable=False, unique=True),
    _fk("case_id", "cases.id", nullable=False, ondelete="CASCADE"),
    _fk("referral_id", "referrals.id", ondelete="SET NULL"),
    sa.Column("service_type", sa.String(48), nullable=False),
    _fk("provider_org_id", "organisations.id", nullable=False),
    sa.Column("started_on", sa.Date, nullable=False, index=True),
    sa.Column("ended_on", sa.Date, nullable=True),
    # covering the dates of one case's services (the case review agenda's last movement)
    sa.Index("ix_services_case_dates", "case_id", "started_on", "ended_on"),
)

# ---------------------------------------------------------------- derived (dashboard/derived.py)
# Pre-computed from the tables above, never written by hand: dashboard.derived.refresh is
# called in the same transaction as every write of their source rows (demo fill, import).
stage_spans = sa.Table(
    "stage_spans",
    metadata,
    # per case and referral-chain stage entered (closed excepted): its first entry, and the
    # first entry of the next chain stage the case entered (NULL while it is still there)
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("stage", sa.String(32), primary_key=True),
    sa.Column("entered", sa.Date, nullable=False),
    sa.Column("next_on", sa.Date, nullable=True),
    sa.Column("days", sa.Integer, nullable=True),  # next_on − entered
    sa.Index("ix_stage_spans_next", "next_on", "stage", "entered", "days", "case_id"),
)

stage_span_months = sa.Table(
    "stage_span_months",
    metadata,
    # stage_spans counted per month of next_on (its first day), stage and days: the time in
    # stage over whole months without reading every span
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("stage", sa.String(32), primary_key=True),
    sa.Column("days", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.Integer, nullable=False),
)

case_first_service = sa.Table(
    "case_first_service",
    metadata,
    # per case with a service: the start of its first service (any type)
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("first_on", sa.Date, nullable=False),
    sa.Index("ix_case_first_service_first_on", "first_on", "case_id"),
)

# ---------------------------------------------------------------- shelters
shelters = sa.Table(
    "shelters",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(300), nullable=False),
    _fk("organisation_id", "organisations.id"),
    _fk("region_id", "regions.id", nullable=False),
)

shelter_capacity = sa.Table(
    "shelter_capacity",
    metadata,
    _id(),
    _fk("shelter_id", "shelters.id", nullable=False, ondelete="CASCADE"),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date, nullable=True),  # exclusive; NULL = still valid
    sa.Column("beds_women", sa.Integer, nullable=False, server_default="0"),
    sa.Column("beds_men", sa.Integer, nullable=False, server_default="0"),
    sa.Column("beds_girls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("beds_boys", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("shelter_id", "valid_from"),
)

shelter_stays = sa.Table(
    "shelter_stays",
    metadata,
    _id(),
    _fk("case_id", "cases.id", nullable=False, ondelete="CASCADE"),
    _fk("shelter_id", "shelters.id", nullable=False, index=False),
    sa.Column("entered_on", sa.Date, nullable=False),
    sa.Column("exited_on", sa.Date, nullable=True),  # NULL = still in the shelter
    sa.Column("exit_destination", sa.String(40), nullable=True),
    sa.UniqueConstraint("case_id", "shelter_id", "entered_on"),
    sa.Index("ix_shelter_stays_shelter_dates", "shelter_id", "entered_on", "exited_on"),
)

# ---------------------------------------------------------------- plans
plans = sa.Table(
    "plans",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("title_fr", sa.String(400), nullable=False),
    sa.Column("title_en", sa.String(400), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("currency", sa.String(8), nullable=False, server_default="XOF"),
)

plan_objectives = sa.Table(
    "plan_objectives",
    metadata,
    _id(),
    _fk("plan_id", "plans.id", nullable=False, ondelete="CASCADE"),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("pillar", sa.String(16), nullable=False),  # prevention | protection | prosecution | partnership
    sa.Column("title_fr", sa.String(400), nullable=False),
    sa.Column("title_en", sa.String(400), nullable=False),
)

plan_activities = sa.Table(
    "plan_activities",
    metadata,
    _id(),
    _fk("objective_id", "plan_objectives.id", nullable=False, ondelete="CASCADE"),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("pillar", sa.String(16), nullable=False),
    sa.Column("title_fr", sa.String(500), nullable=False),
    sa.Column("title_en", sa.String(500), nullable=False),
    _fk("lead_org_id", "organisations.id"),
    _fk("region_id", "regions.id"),  # NULL = national
    sa.Column("planned_start", sa.Date, nullable=False),
    sa.Column("planned_end", sa.Date, nullable=False),
    sa.Column("budget_planned", sa.Numeric(16, 2), nullable=True),
    sa.Column("budget_spent", sa.Numeric(16, 2), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # not_started | in_progress | delayed | completed | cancelled
    sa.Column("indicator", sa.String(500), nullable=True),
)

activity_partners = sa.Table(
    "activity_partners",
    metadata,
    sa.Column("activity_id", sa.Integer, sa.ForeignKey("plan_activities.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
)

activity_status_history = sa.Table(
    "activity_status_history",
    metadata,
    _id(),
    _fk("activity_id", "plan_activities.id", nullable=False, ondelete="CASCADE"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("evidence_note", sa.Text, nullable=True),
    sa.Column("budget_spent", sa.Numeric(16, 2), nullable=True),
    sa.Column("recorded_by", sa.String(64), nullable=True),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)

# ---------------------------------------------------------------- projects
projects = sa.Table(
    "projects",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("title_fr", sa.String(400), nullable=False),
    sa.Column("title_en", sa.String(400), nullable=False),
    _fk("organisation_id", "organisations.id"),
    sa.Column("donor", sa.String(200), nullable=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
)

project_results = sa.Table(
    "project_results",
    metadata,
    _id(),
    _fk("project_id", "projects.id", nullable=False, ondelete="CASCADE"),
    _fk("parent_id", "project_results.id"),
    sa.Column("level", sa.String(16), nullable=False),  # outcome | output
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("title_fr", sa.String(400), nullable=False),
    sa.Column("title_en", sa.String(400), nullable=False),
)

indicators = sa.Table(
    "indicators",
    metadata,
    _id(),
    _fk("result_id", "project_results.id", nullable=False, ondelete="CASCADE"),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("label_fr", sa.String(400), nullable=False),
    sa.Column("label_en", sa.String(400), nullable=False),
    sa.Column("unit", sa.String(24), nullable=False),  # number | percent | days | yes_no
    sa.Column("baseline", sa.Float, nullable=False),
    sa.Column("baseline_on", sa.Date, nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("target_on", sa.Date, nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),  # increase | decrease
    sa.Column("disaggregation", sa.String(16), nullable=False, server_default="none"),  # none | sex
    sa.Column("source", sa.String(16), nullable=False),  # manual | computed
    sa.Column("computation", sa.String(48), nullable=True),  # code of a computed metric
)

indicator_values = sa.Table(
    "indicator_values",
    metadata,
    _id(),
    _fk("indicator_id", "indicators.id", nullable=False, ondelete="CASCADE"),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("sex", sa.String(24), nullable=False, server_default="all"),  # all | female | male
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("recorded_by", sa.String(64), nullable=True),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Index("ix_indicator_values_lookup", "indicator_id", "period_end", "sex"),
)

# ---------------------------------------------------------------- users and audit
users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # admin | committee | minister | partner
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("can_import", sa.Boolean, nullable=False, default=False),
    sa.Column("is_demo", sa.Boolean, nullable=False, default=False),
    _fk("organisation_id", "organisations.id"),
    sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

user_regions = sa.Table(
    "user_regions",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("region_id", sa.Integer, sa.ForeignKey("regions.id"), primary_key=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=True, index=True),
    sa.Column("action", sa.String(48), nullable=False, index=True),
    sa.Column("target", sa.String(200), nullable=True),
    sa.Column("filters", sa.Text, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)
