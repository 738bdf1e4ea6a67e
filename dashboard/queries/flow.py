"""Case flow: the cohort funnel through the referral chain, referrals between
organisations, new identifications per month and the justice track.

Definitions (../shared/DOMAIN.md; in-period rule: an event counts in the period its own
date falls in):

* **Funnel** — a cohort: the cases identified in the period (identification date), and the
  furthest referral-chain stage each has reached by today (its stage events dated on or
  before today). A case has *reached* a stage when its furthest stage is that one or a later
  one; every identified case has reached *identification* (detection precedes it, so it is
  not shown). Closing a case is an exit, not a step forward: *Case closed* counts the cohort
  cases closed by today, whatever stage they were closed from, and its conversion is the
  share of the cohort.
* **Conversion** A → B = cohort cases that reached B ÷ those that reached A.
* **Referral flow** — referrals sent in the period (sent date), counted per sending and
  receiving organisation; a referral back to an earlier organisation is just another cell.
* **New identifications per month** — cases by identification month, broken down by sex,
  age group (minor = age band 0–8 or 9–17 at identification), exploitation type (a case with
  several types counts once per type) or nationality (national / foreign).
* **Justice track** — complaint, investigation, prosecution and judgement events dated in
  the period, judgements by outcome.

Every function takes the filters (region, sex, age group, exploitation on the case) and the
page's click selection as explicit arguments:

* ``stage`` — keep the cases that have reached that chain stage by today (as in the funnel);
* ``pair`` — ``(from_code, to_code)``: keep the cases with a referral from the first
  organisation to the second sent in the period (as in the matrix cell).

The funnel ignores ``stage`` and the matrix ignores ``pair`` (they are the selectors).
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard import schema
from dashboard.db import date_param, frame, month_key
from dashboard.domain import JUSTICE_STEPS, MINOR_BANDS, N_, STAGES
from dashboard.filters import Filters

c, se, r, o = schema.cases, schema.stage_events, schema.referrals, schema.organisations

# Stages shown in the funnel: detection precedes identification (every identified case
# was detected), so the cohort starts at identification.
FUNNEL_STAGES = STAGES[1:]
PROGRESS_STAGES = tuple(s for s in STAGES if s != "closed")
POSITION = {s: i for i, s in enumerate(STAGES)}

# Organisations are ordered along the chain by their type: who detects, who identifies and
# gives immediate help, who protects, who organises return, then the justice side.
ORG_TYPE_ORDER = (
    "LawEnforcement",
    "ImmigrationService",
    "CentralGovernmentOrganisation",
    "LocalGovernmentOrganisation",
    "HealthServiceOrganisation",
    "NGO",
    "Shelter",
    "InternationalOrganisation",
    "LegalService",
    "CorporateBusiness",
)

BREAKDOWNS = ("sex", "age_group", "exploitation", "nationality")
BREAKDOWN_LABELS = {
    "sex": N_("Sex"),
    "age_group": N_("Age group"),
    "exploitation": N_("Exploitation type"),
    "nationality": N_("Nationality"),
}
AGE_GROUP_LABELS = {"minor": N_("Minor"), "adult": N_("Adult"), "unknown": N_("Age unknown")}
NATIONALITY_LABELS = {"national": N_("National"), "foreign": N_("Foreign"), "unknown": N_("Nationality unknown")}
NOT_RECORDED = N_("Not recorded")


def reached_stages(stage: str) -> tuple[str, ...]:
    """The stages whose event shows that a case has reached ``stage``: that stage and the
    later progress stages (closing is an exit, so *closed* only counts for itself)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if stage == "closed":
        return ("closed",)
    return tuple(s for s in PROGRESS_STAGES if POSITION[s] >= POSITION[stage])


def _org_id(code: str):
    return sa.select(o.c.id).where(o.c.code == code).scalar_subquery()


def selection_clauses(f: Filters, stage: str | None = None, pair: tuple[str, str] | None = None, cases=c) -> list:
    """WHERE conditions on ``cases`` for the page's click selection (see the module doc)."""
    clauses = []
    if stage and stage not in ("detection", "identification"):  # every case has reached those
        clauses.append(
            cases.c.id.in_(
                sa.select(se.c.case_id).where(se.c.stage.in_(reached_stages(stage)), se.c.occurred_on <= date_param(f.today))
            )
        )
    if pair:
        frm, to = pair
        clauses.append(
            cases.c.id.in_(
                sa.select(r.c.case_id).where(
                    r.c.from_org_id == _org_id(frm), r.c.to_org_id == _org_id(to), f.in_period(r.c.sent_on)
                )
            )
        )
    return clauses



def _stage_position(col):
    return sa.case({s: POSITION[s] for s in PROGRESS_STAGES}, value=col, else_=None)


# ---------------------------------------------------------------- funnel
def funnel(conn, f: Filters, pair: tuple[str, str] | None = None) -> pd.DataFrame:
    """The cohort funnel. One row per stage of ``FUNNEL_STAGES`` (in chain order):

    stage, position, reached (cohort cases that reached it by today), base (those that
    reached the stage before, the conversion's denominator; the cohort for *closed*),
    conversion (reached ÷ base), stopped_open / stopped_closed (cases whose furthest stage
    is this one, still open / closed by today; 0 for *closed*).
    Empty frame when no case was identified in the period."""
    today = date_param(f.today)
    # One number per cohort case, from its own stage events (a correlated subquery that reads
    # the (case_id, stage, occurred_on) index case by case instead of joining every event):
    # 2 × furthest progress position (identification when none) + 1 if closed by today.
    furthest = sa.func.coalesce(sa.func.max(_stage_position(se.c.stage)), POSITION["identification"])
    closed = sa.func.coalesce(sa.func.max(sa.case((se.c.stage == "closed", 1), else_=0)), 0)
    code = (
        sa.select(furthest * 2 + closed)
        .where(se.c.case_id == c.c.id, se.c.occurred_on <= today)
        .scalar_subquery()
    )
    cohort = (
        sa.select(code.label("code"))
        .where(f.in_period(c.c.identified_on), *f.case_clauses(), *selection_clauses(f, pair=pair))
        .subquery("cohort")
    )
    stmt = sa.select(cohort.c.code, sa.func.count().label("cases")).group_by(cohort.c.code)
    groups = frame(conn, stmt)
    if groups.empty:
        return pd.DataFrame(columns=["stage", "position", "reached", "base", "conversion", "stopped_open", "stopped_closed"])
    codes = pd.to_numeric(groups["code"]).astype(int)
    groups["closed"] = codes % 2
    # every identified case has reached identification, with or without its event
    groups["pos"] = (codes // 2).clip(lower=POSITION["identification"])
    groups["cases"] = groups["cases"].astype(int)
    cohort = int(groups["cases"].sum())
    rows, base = [], cohort
    for stage in FUNNEL_STAGES:
        if stage == "closed":
            reached = int(groups.loc[groups["closed"] == 1, "cases"].sum())
            rows.append((stage, POSITION[stage], reached, cohort, 0, 0))
            continue
        pos = POSITION[stage]
        reached = int(groups.loc[groups["pos"] >= pos, "cases"].sum())
        here = groups[groups["pos"] == pos]
        rows.append((stage, pos, reached, base, int(here.loc[here["closed"] == 0, "cases"].sum()),
                     int(here.loc[here["closed"] == 1, "cases"].sum())))
        base = reached
    out = pd.DataFrame(rows, columns=["stage", "position", "reached", "base", "stopped_open", "stopped_closed"])
    out["conversion"] = (out["reached"] / out["base"].where(out["base"] > 0)).astype(float)
    out.loc[out["stage"] == "identification", "conversion"] = None  # the cohort itself
    return out[["stage", "position", "reached", "base", "conversion", "stopped_open", "stopped_closed"]]


# ---------------------------------------------------------------- referral matrix
def organisations_ordered(conn, f: Filters | None = None) -> pd.DataFrame:
    """Every organisation (id, code, name, org_type) in chain order (type, then code), with
    its position ``order``. (``f`` is accepted for ``ctx.query`` and not used: the list is
    reference data.)"""
    df = frame(conn, sa.select(o.c.id, o.c.code, o.c.name, o.c.org_type))
    if df.empty:
        return df.assign(order=pd.Series(dtype=int))
    rank = {t: i for i, t in enumerate(ORG_TYPE_ORDER)}
    df["type_rank"] = df["org_type"].map(rank).fillna(len(rank))
    df = df.sort_values(["type_rank", "code"]).drop(columns="type_rank").reset_index(drop=True)
    df["order"] = range(len(df))
    return df


def referral_matrix(conn, f: Filters, stage: str | None = None) -> pd.DataFrame:
    """Referrals sent in the period per (sending, receiving) organisation:
    from_code, to_code, from_name, to_name, from_type, to_type, from_order, to_order,
    referrals — one row per pair with at least one referral, ordered along the chain."""
    # the join to cases only when the filters need it (it doubles the work on SQLite)
    cases_needed = f.restricts_cases() or stage not in (None, "detection", "identification")
    stmt = (
        sa.select(r.c.from_org_id, r.c.to_org_id, sa.func.count().label("referrals"))
        .select_from(r.join(c, c.c.id == r.c.case_id) if cases_needed else r)
        .where(f.in_period(r.c.sent_on), *(f.case_clauses() if cases_needed else []),
               *selection_clauses(f, stage=stage))
        .group_by(r.c.from_org_id, r.c.to_org_id)
    )
    counts = frame(conn, stmt)
    cols = ["from_code", "to_code", "from_name", "to_name", "from_type", "to_type", "from_order", "to_order", "referrals"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    orgs = organisations_ordered(conn).set_index("id")
    for side in ("from", "to"):
        ids = counts[f"{side}_org_id"]
        counts[f"{side}_code"] = ids.map(orgs["code"])
        counts[f"{side}_name"] = ids.map(orgs["name"])
        counts[f"{side}_type"] = ids.map(orgs["org_type"])
        counts[f"{side}_order"] = ids.map(orgs["order"]).astype(int)
    counts["referrals"] = counts["referrals"].astype(int)
    return counts.sort_values(["from_order", "to_order"])[cols].reset_index(drop=True)


# ---------------------------------------------------------------- monthly identifications
def _category(by: str):
    """(select-from, category expression) for a breakdown of cases."""
    if by == "sex":
        return c, c.c.sex
    if by == "age_group":
        return c, sa.case(
            (c.c.age_band.in_(sorted(MINOR_BANDS)), "minor"), (c.c.age_band == "unknown", "unknown"), else_="adult"
        )
    if by == "nationality":
        return c, sa.case((c.c.is_foreign.is_(None), "unknown"), (c.c.is_foreign, "foreign"), else_="national")
    if by == "exploitation":
        ce = schema.case_exploitation
        return c.outerjoin(ce, ce.c.case_id == c.c.id), sa.func.coalesce(ce.c.exploitation_type, "unknown")
    raise ValueError(f"unknown breakdown {by!r}")


def identifications_by_month(conn, f: Filters, by: str = "sex", stage: str | None = None,
                             pair: tuple[str, str] | None = None) -> pd.DataFrame:
    """month (YYYY-MM), category, cases — cases identified in the period per identification
    month and ``by`` (sex | age_group | exploitation | nationality). Categories: sex codes;
    minor / adult / unknown; exploitation type codes (unknown = none recorded; a case with
    several types counts once per type); national / foreign / unknown."""
    source, category = _category(by)
    m = month_key(c.c.identified_on, conn.dialect.name).label("month")
    cat = category.label("category")
    stmt = (
        sa.select(m, cat, sa.func.count().label("cases"))
        .select_from(source)
        .where(f.in_period(c.c.identified_on), *f.case_clauses(), *selection_clauses(f, stage=stage, pair=pair))
        .group_by(m, cat)
        .order_by(m, cat)
    )
    df = frame(conn, stmt)
    if not df.empty:
        df["cases"] = df["cases"].astype(int)
    return df


# ---------------------------------------------------------------- justice
def justice_track(conn, f: Filters, stage: str | None = None, pair: tuple[str, str] | None = None) -> pd.DataFrame:
    """step, outcome, events — justice-track events dated in the period (complaint,
    investigation, prosecution, judgement), judgements split by outcome (conviction |
    acquittal | dismissed; NULL when not recorded), in the order of the track."""
    stmt = (
        sa.select(se.c.stage.label("step"), se.c.outcome, sa.func.count().label("events"))
        .select_from(se.join(c, c.c.id == se.c.case_id))
        .where(se.c.stage.in_(JUSTICE_STEPS), f.in_period(se.c.occurred_on), *f.case_clauses(),
               *selection_clauses(f, stage=stage, pair=pair))
        .group_by(se.c.stage, se.c.outcome)
    )
    df = frame(conn, stmt)
    if df.empty:
        return df
    df["events"] = df["events"].astype(int)
    df["order"] = df["step"].map({s: i for i, s in enumerate(JUSTICE_STEPS)})
    return df.sort_values(["order", "outcome"], na_position="first").drop(columns="order").reset_index(drop=True)
