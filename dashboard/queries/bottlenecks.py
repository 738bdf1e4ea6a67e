"""Bottlenecks between agencies: how fast referrals are acknowledged, decided and served,
which are overdue, which hand-offs are the slowest, and how long cases stay in each stage.

Definitions (../shared/DOMAIN.md; in-period rule: an event counts in the period its own
date falls in — referrals by sent date, acknowledgements by acknowledgement date, decisions
by decision date, first services by their start date):

* **Sent / acknowledged / accepted / declined** — referrals whose sent / acknowledged /
  decided date falls in the period (declined also by decline reason).
* **Acceptance rate** = accepted ÷ (accepted + declined), over decisions in the period; its
  n is the number of decisions.
* **Days to acknowledge / decide / first service** = that date − sent date (the stored
  ``days_to_*`` columns), over the referrals whose interval closed in the period
  (acknowledged_on / decided_on / first_service_on in the period): median and 90th
  percentile (linear interpolation), with n.
* **Overdue referral** = no decision and today − sent date > the target for the receiving
  organisation type or service (``dashboard.queries.targets``), as of today.
* **Bottleneck ranking** = organisation pairs ordered by median days to decision (ties:
  overdue count), with the change against the previous period of equal length.
* **Time in stage** = entry into the next referral-chain stage − entry into this one, for
  cases whose next-stage entry falls in the period; cases still in a stage (no later stage
  entered, not closed) are the **backlog**, with their age (today − entry), not in the median.

Everything is filtered by the cases' region, sex, age group and exploitation type.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard import privacy, schema
from dashboard.db import date_param, days_diff, frame, percentile_select, percentiles
from dashboard.domain import DECLINE_REASONS, N_, STAGES
from dashboard.filters import Filters
from dashboard.queries.targets import pending_select, target_days

c, r, o, se = schema.cases, schema.referrals, schema.organisations, schema.stage_events

MEASURES = ("acknowledge", "decision", "first_service")
MEASURE_LABELS = {
    "acknowledge": N_("Days to acknowledge"),
    "decision": N_("Days to decision"),
    "first_service": N_("Days to first service"),
}
_MEASURE_COLUMNS = {
    "acknowledge": (r.c.acknowledged_on, r.c.days_to_acknowledge),
    "decision": (r.c.decided_on, r.c.days_to_decision),
    "first_service": (r.c.first_service_on, r.c.days_to_first_service),
}

# Age of overdue referrals (today − sent date), in days: (code, lowest age, highest age or None).
AGE_BUCKETS = (("0-7", 0, 7), ("8-14", 8, 14), ("15-30", 15, 30), ("31-90", 31, 90), ("91+", 91, None))
AGE_BUCKET_LABELS = {
    "0-7": N_("up to 7 days"),
    "8-14": N_("8 to 14 days"),
    "15-30": N_("15 to 30 days"),
    "31-90": N_("31 to 90 days"),
    "91+": N_("more than 90 days"),
}

# Pass these to privacy.protect / ctx.protect with a ranking() frame.
RANKING_COUNTS = ["n", "overdue", "previous_n"]
RANKING_STATS = {"median": "n", "p90": "n", "previous_median": "previous_n", "change": "change_n"}

_KEYS = {"all": [], "receiver": ["to_org_id"], "pair": ["from_org_id", "to_org_id"]}


def _keys(by: str) -> list[str]:
    if by not in _KEYS:
        raise ValueError(f"unknown grouping {by!r}")
    return _KEYS[by]


def _organisations(conn) -> pd.DataFrame:
    return frame(conn, sa.select(o.c.id, o.c.code, o.c.name, o.c.org_type)).set_index("id")


def _name_orgs(conn, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add code, name and type columns for each organisation id column in ``keys``."""
    if not keys:
        return df
    orgs = _organisations(conn)
    for key in keys:
        side = "from" if key == "from_org_id" else "to"
        df[f"{side}_org"] = df[key].map(orgs["code"])
        df[f"{side}_name"] = df[key].map(orgs["name"])
        df[f"{side}_type"] = df[key].map(orgs["org_type"])
    return df


def _case_filtered(f: Filters) -> bool:
    """Whether the filters restrict the cases at all (else the join to cases is skipped)."""
    return bool(f.effective_regions() is not None or f.sex or f.age_group or f.exploitation)


def _with_cases(table, f: Filters):
    """``table`` joined to its cases when the filters need them (``table.c.case_id``)."""
    return table.join(c, c.c.id == table.c.case_id) if _case_filtered(f) else table


def _case_where(f: Filters) -> list:
    return f.case_clauses() if _case_filtered(f) else []


def _in_period_sum(cond, name: str):
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0).label(name)


# ---------------------------------------------------------------- performance per receiver / pair
def performance(conn, f: Filters, by: str = "receiver") -> pd.DataFrame:
    """Referral figures per receiving organisation (``by="receiver"``), per (sending,
    receiving) pair (``"pair"``) or overall (``"all"``, one row):

    sent, acknowledged, accepted, declined, declined_<reason> for each decline reason
    (no_capacity, not_eligible, person_refused, other — a missing reason counts as other),
    decisions (accepted + declined), acceptance_rate (accepted ÷ decisions), and for each of
    acknowledge / decision / first_service: <m>_n, <m>_median, <m>_p90 (days, over the
    intervals that closed in the period). Organisation columns: to_org, to_name, to_type
    (and from_* for pairs). Groups where nothing happened in the period are absent."""
    keys = _keys(by)
    keycols = [r.c[k] for k in keys]
    counts = [
        _in_period_sum(f.in_period(r.c.sent_on), "sent"),
        _in_period_sum(f.in_period(r.c.acknowledged_on), "acknowledged"),
        _in_period_sum(sa.and_(f.in_period(r.c.decided_on), r.c.outcome == "accepted"), "accepted"),
        _in_period_sum(sa.and_(f.in_period(r.c.decided_on), r.c.outcome == "declined"), "declined"),
    ]
    for reason in DECLINE_REASONS:
        if reason == "other":
            cond = sa.or_(r.c.decline_reason == "other", r.c.decline_reason.is_(None))
        else:
            cond = r.c.decline_reason == reason
        counts.append(_in_period_sum(sa.and_(f.in_period(r.c.decided_on), r.c.outcome == "declined", cond),
                                     f"declined_{reason}"))
    touched = sa.or_(*(f.in_period(col) for col in (r.c.sent_on, r.c.acknowledged_on, r.c.decided_on, r.c.first_service_on)))
    stmt = (
        sa.select(*keycols, *counts)
        .select_from(_with_cases(r, f))
        .where(r.c.sent_on <= f.end, touched, *_case_where(f))
    )
    if keycols:
        stmt = stmt.group_by(*keycols)
    df = frame(conn, stmt)
    if not keys and not df.empty and int(df["sent"].iloc[0] or 0) == 0 and all(
        int(df[col].iloc[0] or 0) == 0 for col in ("acknowledged", "accepted", "declined")
    ):
        df = df.iloc[0:0]
    stats = _interval_stats(conn, f, keys)
    measure_cols = [f"{m}_{s}" for m in MEASURES for s in ("n", "median", "p90")]
    if df.empty:
        return pd.DataFrame(columns=[*keys, *(col.name for col in counts), "decisions", "acceptance_rate", *measure_cols])
    for col in counts:
        df[col.name] = df[col.name].astype(int)
    df["decisions"] = df["accepted"] + df["declined"]
    df["acceptance_rate"] = (df["accepted"] / df["decisions"].where(df["decisions"] > 0)).astype(float)
    if keys:
        df = df.merge(stats, on=keys, how="left")
        for m in MEASURES:
            df[f"{m}_n"] = pd.to_numeric(df[f"{m}_n"]).fillna(0).astype(int)
    else:
        for col in measure_cols:
            df[col] = stats[col].iloc[0]
    df = _name_orgs(conn, df, keys)
    sort = ["to_org"] if by == "receiver" else ["from_org", "to_org"] if by == "pair" else []
    return df.sort_values(sort).reset_index(drop=True) if sort else df


def _interval_stats(conn, f: Filters, keys: list[str]) -> pd.DataFrame:
    """keys + <measure>_n / _median / _p90, one SQL statement (the three intervals as one
    UNION ALL, percentiles per key and measure)."""
    parts = []
    for m in MEASURES:
        closed_on, days = _MEASURE_COLUMNS[m]
        parts.append(
            sa.select(*(r.c[k] for k in keys), sa.literal_column(f"'{m}'").label("measure"), days.label("v"))
            .select_from(_with_cases(r, f))
            .where(f.in_period(closed_on), *_case_where(f))
        )
    # materialised once: SQLite would otherwise re-run the union inside the window pass
    intervals = sa.union_all(*parts).cte("intervals").prefix_with("MATERIALIZED")
    values = sa.select(*intervals.c)
    stmt = percentile_select(values, [*keys, "measure"]).for_dialect(conn.dialect.name)
    long = frame(conn, stmt)
    for k in keys:
        long[k] = long[k].astype(int)
    parts = []
    for m in MEASURES:
        part = long[long["measure"] == m].drop(columns="measure")
        parts.append(part.rename(columns={"n": f"{m}_n", "median": f"{m}_median", "p90": f"{m}_p90"}))
    if keys:
        wide = parts[0]
        for part in parts[1:]:
            wide = wide.merge(part, on=keys, how="outer")
    else:
        wide = pd.DataFrame([{col: (part[col].iloc[0] if not part.empty else None)
                              for part in parts for col in part.columns}])
    for m in MEASURES:
        wide[f"{m}_n"] = pd.to_numeric(wide[f"{m}_n"]).fillna(0).astype(int)
        wide[f"{m}_median"] = pd.to_numeric(wide[f"{m}_median"]).astype(float)
        wide[f"{m}_p90"] = pd.to_numeric(wide[f"{m}_p90"]).astype(float)
    return wide


# ---------------------------------------------------------------- overdue
def _age_bucket(age):
    whens = []
    for code, lo, hi in AGE_BUCKETS:
        whens.append((age <= hi, code) if hi is not None else (age >= lo, code))
    return sa.case(*whens[:-1], else_=whens[-1][1])


def overdue_by_age(conn, f: Filters) -> pd.DataFrame:
    """Overdue referrals as of today per receiving organisation and age bucket (today −
    sent date): to_org, to_name, to_type, bucket, referrals. Buckets in ``AGE_BUCKETS``."""
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    bucket = _age_bucket(pend.c.age_days).label("bucket")
    stmt = sa.select(pend.c.to_org_id, bucket, sa.func.count().label("referrals")).group_by(pend.c.to_org_id, bucket)
    df = frame(conn, stmt)
    if df.empty:
        return pd.DataFrame(columns=["to_org", "to_name", "to_type", "bucket", "referrals"])
    df["referrals"] = df["referrals"].astype(int)
    df = _name_orgs(conn, df, ["to_org_id"])
    order = {code: i for i, (code, _lo, _hi) in enumerate(AGE_BUCKETS)}
    df["o"] = df["bucket"].map(order)
    return df.sort_values(["to_org", "o"])[["to_org", "to_name", "to_type", "bucket", "referrals"]].reset_index(drop=True)


def overdue_summary(conn, f: Filters) -> pd.DataFrame:
    """One row: pending (no decision as of today), overdue (of which past their target),
    median_age and p90_age of the overdue ones (days since sent), n (= overdue)."""
    pend = pending_select(f, conn.dialect.name).subquery("pending")
    counts = frame(conn, sa.select(
        sa.func.count().label("pending"),
        sa.func.coalesce(sa.func.sum(sa.case((pend.c.overdue, 1), else_=0)), 0).label("overdue"),
    ))
    ages = percentiles(conn, sa.select(pend.c.age_days.label("v")).where(pend.c.overdue), [])
    out = counts.astype(int)
    out["n"] = int(ages["n"].iloc[0]) if not ages.empty else 0
    out["median_age"] = float(ages["median"].iloc[0]) if not ages.empty else None
    out["p90_age"] = float(ages["p90"].iloc[0]) if not ages.empty else None
    return out


OVERDUE_LIST_LIMIT = 500


@privacy.case_level
def overdue_list(conn, f: Filters, viewer, limit: int = OVERDUE_LIST_LIMIT) -> pd.DataFrame:
    """Case level (committee and admin only): the overdue referrals as of today, most
    overdue first — case_code, referral_code, from_org, from_name, to_org, to_name,
    service_type, sent_on, age_days, target_days, days_over. At most ``limit`` rows."""
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    sender, receiver = o.alias("sender"), o.alias("receiver")
    stmt = (
        sa.select(
            c.c.code.label("case_code"), r.c.code.label("referral_code"),
            sender.c.code.label("from_org"), sender.c.name.label("from_name"),
            receiver.c.code.label("to_org"), receiver.c.name.label("to_name"),
            pend.c.service_type, pend.c.sent_on, pend.c.age_days, pend.c.target_days, pend.c.days_over,
        )
        .select_from(
            pend.join(r, r.c.id == pend.c.referral_id)
            .join(c, c.c.id == pend.c.case_id)
            .join(sender, sender.c.id == pend.c.from_org_id)
            .join(receiver, receiver.c.id == pend.c.to_org_id)
        )
        .order_by(pend.c.days_over.desc(), pend.c.sent_on, r.c.code)
        .limit(limit)
    )
    return frame(conn, stmt)


# ---------------------------------------------------------------- ranking
def _decision_stats(conn, f: Filters) -> pd.DataFrame:
    values = (
        sa.select(r.c.from_org_id, r.c.to_org_id, r.c.days_to_decision.label("v"))
        .select_from(_with_cases(r, f))
        .where(f.in_period(r.c.decided_on), *_case_where(f))
    )
    return percentiles(conn, values, ["from_org_id", "to_org_id"])


def ranking(conn, f: Filters, limit: int | None = 3, min_n: int = 1) -> pd.DataFrame:
    """The worst hand-offs: organisation pairs ordered by median days to decision (over the
    referrals decided in the period, decision date − sent date), ties broken by the number of
    referrals of the pair overdue as of today, then by n.

    Columns: from_org, to_org (codes), from_name, to_name, n, median, p90, overdue,
    previous_n, previous_median (same pair, previous period of equal length,
    ``Filters.previous``), change (median − previous_median, days; NaN without a previous
    median), change_n (min(n, previous_n), the n behind the change).
    Only pairs with at least ``min_n`` decisions in the period are ranked (pass the
    small-count threshold k for aggregate-only viewers, so that the top rows are not
    withheld); ``limit=None`` returns every pair. Protect with ``RANKING_COUNTS`` and
    ``RANKING_STATS``."""
    cols = ["from_org", "to_org", "from_name", "to_name", "n", "median", "p90", "overdue",
            "previous_n", "previous_median", "change", "change_n"]
    now = _decision_stats(conn, f)
    if now.empty:
        return pd.DataFrame(columns=cols)
    now = now[now["n"] >= max(min_n, 1)]
    if now.empty:
        return pd.DataFrame(columns=cols)
    keys = ["from_org_id", "to_org_id"]
    before = _decision_stats(conn, f.previous()).rename(columns={"n": "previous_n", "median": "previous_median"})
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    overdue = frame(conn, sa.select(pend.c.from_org_id, pend.c.to_org_id, sa.func.count().label("overdue"))
                    .group_by(pend.c.from_org_id, pend.c.to_org_id))
    df = now.merge(before[[*keys, "previous_n", "previous_median"]], on=keys, how="left")
    df = df.merge(overdue, on=keys, how="left") if not overdue.empty else df.assign(overdue=0)
    df["n"] = df["n"].astype(int)
    df["overdue"] = pd.to_numeric(df["overdue"]).fillna(0).astype(int)
    df["previous_n"] = pd.to_numeric(df["previous_n"]).fillna(0).astype(int)
    for col in ("median", "p90", "previous_median"):
        df[col] = pd.to_numeric(df[col]).astype(float)
    df["change"] = df["median"] - df["previous_median"]
    df["change_n"] = df[["n", "previous_n"]].min(axis=1)
    df = _name_orgs(conn, df, keys)
    df = df.sort_values(["median", "overdue", "n", "from_org", "to_org"], ascending=[False, False, False, True, True])
    if limit is not None:
        df = df.head(limit)
    return df[cols].reset_index(drop=True)


def decided_within_target(conn, f: Filters) -> pd.DataFrame:
    """One row: decided (referrals decided in the period — decision date in the period —
    whose receiver has a target; those without a target are left out), within_target (of
    which days_to_decision ≤ target days for the receiving organisation type or service),
    share (within_target ÷ decided; NaN when nothing was decided)."""
    receiver = o.alias("receiver")
    target = target_days(r, receiver)
    decided = (
        sa.select(r.c.days_to_decision.label("days"), target.label("target"))
        .select_from(_with_cases(r, f).join(receiver, receiver.c.id == r.c.to_org_id))
        .where(f.in_period(r.c.decided_on), *_case_where(f))
        .subquery("decided")
    )
    stmt = sa.select(
        sa.func.count().label("decided"),
        sa.func.coalesce(sa.func.sum(sa.case((decided.c.days <= decided.c.target, 1), else_=0)), 0).label("within_target"),
    ).where(decided.c.target.is_not(None))
    df = frame(conn, stmt).astype(int)
    df["share"] = (df["within_target"] / df["decided"].where(df["decided"] > 0)).astype(float)
    return df


# ---------------------------------------------------------------- time in stage
CHAIN = STAGES  # detection … closed; closed ends the previous stage and has no time of its own
_POSITION = {s: i for i, s in enumerate(CHAIN)}


def time_in_stage(conn, f: Filters) -> pd.DataFrame:
    """Per referral-chain stage (detection … return and reintegration, in order):

    stage, n, median, p90 — days from entering the stage to entering the next one (the next
    stage the case entered along the chain, closing included), over the cases whose
    next-stage entry falls in the period; backlog (cases in that stage now: no later stage
    entered and not closed), backlog_median_age, backlog_p90_age (today − entry, days).
    A stage entered more than once counts from its first entry. One SQL statement: first
    entries per case and stage, LEAD over the chain position, percentiles per stage."""
    today = date_param(f.today)
    pos = sa.case(_POSITION, value=se.c.stage)
    firsts = (
        sa.select(se.c.case_id, se.c.stage, pos.label("pos"), sa.func.min(se.c.occurred_on).label("entered"))
        .select_from(_with_cases(se, f))
        # "position known" rather than stage IN (...): same rows, and SQLite then reads the
        # (case_id, stage, occurred_on) index in order instead of sorting for the GROUP BY
        .where(pos.is_not(None), se.c.occurred_on <= today, *_case_where(f))
        .group_by(se.c.case_id, se.c.stage)
        .subquery("firsts")
    )
    spans = sa.select(
        firsts.c.stage, firsts.c.entered,
        sa.func.lead(firsts.c.entered).over(partition_by=firsts.c.case_id, order_by=firsts.c.pos).label("next_on"),
    ).cte("spans").prefix_with("MATERIALIZED")
    dialect = conn.dialect.name
    values = sa.union_all(
        sa.select(spans.c.stage, sa.literal_column("'time'").label("kind"),
                  days_diff(spans.c.entered, spans.c.next_on, dialect).label("v"))
        .where(f.in_period(spans.c.next_on)),
        sa.select(spans.c.stage, sa.literal_column("'backlog'").label("kind"),
                  days_diff(spans.c.entered, today, dialect).label("v"))
        .where(spans.c.next_on.is_(None), spans.c.stage != "closed"),
    )
    long = frame(conn, percentile_select(values, ["stage", "kind"]).for_dialect(dialect))
    rows = []
    for stage in CHAIN[:-1]:
        t = long[(long["stage"] == stage) & (long["kind"] == "time")]
        b = long[(long["stage"] == stage) & (long["kind"] == "backlog")]
        rows.append({
            "stage": stage,
            "n": int(t["n"].iloc[0]) if not t.empty else 0,
            "median": float(t["median"].iloc[0]) if not t.empty else None,
            "p90": float(t["p90"].iloc[0]) if not t.empty else None,
            "backlog": int(b["n"].iloc[0]) if not b.empty else 0,
            "backlog_median_age": float(b["median"].iloc[0]) if not b.empty else None,
            "backlog_p90_age": float(b["p90"].iloc[0]) if not b.empty else None,
        })
    out = pd.DataFrame(rows)
    if (out["n"] == 0).all() and (out["backlog"] == 0).all():
        return out.iloc[0:0]
    return out
