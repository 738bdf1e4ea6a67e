"""Figures of the ministers' summary page that no other topic module computes.

Definitions (../shared/DOMAIN.md; the in-period rule: an event counts in the period its
own date falls in):

* **Victims identified** = cases whose identification date falls in the period, not
  counting those assessed as *not a victim* (possible and actual victims), matching the
  filters' regions, sex, age group and exploitation. **Women and girls** = those recorded
  female; **minors** = those whose age band at identification is 0–8 or 9–17.
* **Days from identification to first assistance** = start of the case's first service
  (any assistance type) − identification date, over the victims whose first service
  started in the period (the interval closes then). Median and 90th percentile, with n.

Every other headline figure comes from its own topic module (bottlenecks, shelters,
plan): this module only puts them side by side with the previous period of equal length
(:meth:`Filters.previous`), in :func:`headline`.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import derived, schema
from dashboard.db import days_diff, frame, histogram_select, month_key, percentiles, quantiles_from_histogram
from dashboard.domain import MINOR_BANDS
from dashboard.filters import Filters
from dashboard.queries import bottlenecks, plan, shelters

c, s = schema.cases, schema.services

VICTIM_COUNTS = ("total", "women_girls", "minors")


def _victim_clauses(f: Filters) -> list:
    return [c.c.trafficking_status != "not_victim", *f.case_clauses()]


def _victim_columns():
    return [
        sa.func.count().label("total"),
        sa.func.coalesce(sa.func.sum(sa.case((c.c.sex == "female", 1), else_=0)), 0).label("women_girls"),
        sa.func.coalesce(sa.func.sum(sa.case((c.c.age_band.in_(sorted(MINOR_BANDS)), 1), else_=0)), 0).label("minors"),
    ]


def victims_identified(conn, f: Filters) -> pd.DataFrame:
    """One row: total, women_girls, minors — victims identified in the period (see module doc)."""
    stmt = sa.select(*_victim_columns()).where(f.in_period(c.c.identified_on), *_victim_clauses(f))
    df = frame(conn, stmt)
    return df.astype({k: "int64" for k in VICTIM_COUNTS})


def victims_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), total, women_girls, minors — victims identified, by month of identification
    (months with none are absent)."""
    m = month_key(c.c.identified_on, conn.dialect.name).label("month")
    stmt = (
        sa.select(m, *_victim_columns())
        .where(f.in_period(c.c.identified_on), *_victim_clauses(f))
        .group_by(m)
        .order_by(m)
    )
    df = frame(conn, stmt)
    return df.astype({k: "int64" for k in VICTIM_COUNTS}) if not df.empty else df


def _first_service():
    return sa.select(s.c.case_id, sa.func.min(s.c.started_on).label("first_on")).group_by(s.c.case_id).subquery("first_service")


def _first_assistance_values(conn, f: Filters, by_month: bool) -> sa.Select:
    """v (days from identification to first assistance) of the victims whose first service
    started in the period, and its month with ``by_month``. Read from the derived
    ``case_first_service`` (one index range on first_on); from the services themselves when
    that table was never filled (``dashboard.derived``)."""
    if derived.is_filled(conn, schema.case_first_service):
        fs = schema.case_first_service
    else:
        fs = _first_service()
    cols = [days_diff(c.c.identified_on, fs.c.first_on, conn.dialect.name).label("v")]
    if by_month:
        cols.insert(0, month_key(fs.c.first_on, conn.dialect.name).label("month"))
    return (
        sa.select(*cols)
        .select_from(fs.join(c, fs.c.case_id == c.c.id))
        .where(f.in_period(fs.c.first_on), *_victim_clauses(f))
    )


def first_assistance(conn, f: Filters) -> pd.DataFrame:
    """One row: n, median, p90 — days from identification to first assistance, over the
    victims whose first service started in the period (n = 0 and no median when none)."""
    df = percentiles(conn, _first_assistance_values(conn, f, by_month=False), keys=[])
    if df.empty:
        return pd.DataFrame({"n": [0], "median": [None], "p90": [None]})
    out = df[["n", "median", "p90"]].copy()
    out["n"] = out["n"].astype("int64")
    return out


def first_assistance_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), n, median, p90 — the same, by month of the first service."""
    df = percentiles(conn, _first_assistance_values(conn, f, by_month=True), keys=["month"])
    if df.empty:
        return pd.DataFrame(columns=["month", "n", "median", "p90"])
    df = df.sort_values("month").reset_index(drop=True)
    df["n"] = df["n"].astype("int64")
    return df[["month", "n", "median", "p90"]]


# ---------------------------------------------------------------- side by side with the previous period
def months(f: Filters) -> list[tuple[str, Filters]]:
    """('YYYY-MM', the filters narrowed to that month within the period) for each month."""
    out, d = [], date(f.start.year, f.start.month, 1)
    while d <= f.end:
        nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        out.append((f"{d:%Y-%m}", f.with_(start=max(d, f.start), end=min(nxt - timedelta(days=1), f.end), preset="custom")))
        d = nxt
    return out


def _one(df: pd.DataFrame, col: str):
    if df.empty or col not in df.columns:
        return None
    value = df[col].iloc[0]
    return None if pd.isna(value) else value


def _period_figures(conn, f: Filters) -> dict:
    victims = victims_identified(conn, f)
    within = bottlenecks.decided_within_target(conn, f)
    first = first_assistance(conn, f)
    util = shelters.overall_utilisation(conn, f)
    return {
        "victims": int(victims["total"].iloc[0]),
        "women_girls": int(victims["women_girls"].iloc[0]),
        "minors": int(victims["minors"].iloc[0]),
        "within_target": _one(within, "share"),
        "within_target_n": int(_one(within, "decided") or 0),
        "first_assist": _one(first, "median"),
        "first_assist_n": int(_one(first, "n") or 0),
        "utilisation": _one(util, "utilisation"),
        # no shelter (or no night over) in the selection: no n at all, not zero people
        "utilisation_n": None if util.empty else int(_one(util, "people") or 0),
    }


HEADLINE_FIGURES = ("victims", "women_girls", "minors", "within_target", "first_assist", "utilisation")


def headline(conn, f: Filters) -> pd.DataFrame:
    """One row: each headline figure for the period and, suffixed ``_prev``, for the previous
    period of equal length (:meth:`Filters.previous`):

    victims, women_girls, minors (victims identified, see the module doc);
    within_target (share of the referrals decided in the period that were decided within
    their target, ``bottlenecks.decided_within_target``) with within_target_n (referrals
    decided that have a target); first_assist (median days from identification to first
    assistance) with first_assist_n; utilisation (bed-nights used ÷ available,
    ``shelters.overall_utilisation``) with utilisation_n (people present, None when the
    selection has no shelter night). Protect with ``HEADLINE_COUNTS`` / ``HEADLINE_STATS``."""
    now, before = _period_figures(conn, f), _period_figures(conn, f.previous())
    row = dict(now)
    row.update({f"{k}_prev": v for k, v in before.items()})
    df = pd.DataFrame([row])
    for col in ("within_target", "first_assist", "utilisation", "within_target_prev", "first_assist_prev", "utilisation_prev"):
        df[col] = pd.to_numeric(df[col]).astype(float)
    return df


HEADLINE_COUNTS = ["victims", "women_girls", "minors", "victims_prev", "women_girls_prev", "minors_prev",
                   "within_target_n", "within_target_n_prev", "first_assist_n", "first_assist_n_prev",
                   "utilisation_n", "utilisation_n_prev"]
HEADLINE_STATS = {"within_target": "within_target_n", "within_target_prev": "within_target_n_prev",
                  "first_assist": "first_assist_n", "first_assist_prev": "first_assist_n_prev",
                  "utilisation": "utilisation_n", "utilisation_prev": "utilisation_n_prev"}


# ---------------------------------------------------------------- monthly trends (sparklines)
def within_target_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), decided, within_target, share — ``bottlenecks.decided_within_target``
    for each month of the period (months with no decision have decided 0 and no share).
    One statement grouped by month of the decision date."""
    got = frame(conn, bottlenecks.within_target_select(f, conn.dialect.name, by_month=True))
    got = got.set_index("month") if not got.empty else pd.DataFrame(columns=["decided", "within_target"])
    out = pd.DataFrame({"month": [key for key, _fm in months(f)]})
    for col in ("decided", "within_target"):
        out[col] = out["month"].map(got[col]).fillna(0).astype(int)
    out["share"] = (out["within_target"] / out["decided"].where(out["decided"] > 0)).astype(float)
    return out[["month", "decided", "within_target", "share"]]


def utilisation_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), bed_nights_used, bed_nights_available, utilisation, people — every
    shelter of the selection together, from ``shelters.utilisation_series`` by region (the
    regions' bed-nights summed, so utilisation = Σ used ÷ Σ available)."""
    cols = ["month", "bed_nights_used", "bed_nights_available", "utilisation", "people"]
    series = shelters.utilisation_series(conn, f, by="region", bucket="month")
    if series.empty:
        return pd.DataFrame(columns=cols)
    df = (series.groupby("period", as_index=False)[["bed_nights_used", "bed_nights_available", "people"]].sum()
          .rename(columns={"period": "month"}).sort_values("month"))
    df["utilisation"] = [u / a if a else None for u, a in zip(df["bed_nights_used"], df["bed_nights_available"])]
    df["utilisation"] = pd.to_numeric(df["utilisation"]).astype(float)
    return df[cols].reset_index(drop=True)


def completed_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), completed, delayed — plan activities of the selection whose recorded
    status was completed / delayed at the end of each month (``plan.status_over_time``)."""
    df = plan.status_over_time(conn, f)
    out = pd.DataFrame({"month": [key for key, _day in plan.month_ends(f)]})
    for status in ("completed", "delayed"):
        part = df[df["status"] == status].set_index("month")["activities"] if not df.empty else pd.Series(dtype=int)
        out[status] = out["month"].map(part).fillna(0).astype(int)
    return out


def handoffs_per_month(conn, f: Filters, pairs: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """from_org, to_org, month, n, median — median days to decision of each pair of
    organisation codes, per month of the period (as ``bottlenecks.performance`` by pair for
    that month: the referrals decided that month); months without a decision for the pair
    are absent. One statement: a histogram per pair and month of the decision date."""
    cols = ["from_org", "to_org", "month", "n", "median"]
    if not pairs:
        return pd.DataFrame(columns=cols)
    o = schema.organisations
    wanted = {code for pair in pairs for code in pair}
    ids = dict(conn.execute(sa.select(o.c.code, o.c.id).where(o.c.code.in_(sorted(wanted)))).all())
    known = sorted({(ids[a], ids[b]) for a, b in pairs if a in ids and b in ids})
    if not known:
        return pd.DataFrame(columns=cols)
    r = schema.referrals
    values = (
        sa.select(month_key(r.c.decided_on, conn.dialect.name).label("month"), r.c.from_org_id, r.c.to_org_id,
                  r.c.days_to_decision.label("v"))
        .select_from(r.join(c, c.c.id == r.c.case_id) if f.restricts_cases() else r)
        .where(f.in_period(r.c.decided_on),
               sa.or_(*(sa.and_(r.c.from_org_id == a, r.c.to_org_id == b) for a, b in known)),
               *(f.case_clauses() if f.restricts_cases() else []))
    )
    keys = ["month", "from_org_id", "to_org_id"]
    stats = quantiles_from_histogram(frame(conn, histogram_select(values, keys)), keys)
    if stats.empty:
        return pd.DataFrame(columns=cols)
    codes = {v: k for k, v in ids.items()}
    stats["from_org"] = stats["from_org_id"].astype(int).map(codes)
    stats["to_org"] = stats["to_org_id"].astype(int).map(codes)
    stats["n"] = stats["n"].astype(int)
    stats["median"] = stats["median"].astype(float)
    return stats.sort_values(["month", "from_org", "to_org"])[cols].reset_index(drop=True)


def slowest_handoffs(conn, f: Filters, min_n: int = 1, limit: int = 3) -> pd.DataFrame:
    """``bottlenecks.ranking(conn, f, limit, min_n)``: the slowest hand-offs, with the change
    against the previous period. Protect with ``bottlenecks.RANKING_COUNTS`` / ``RANKING_STATS``."""
    return bottlenecks.ranking(conn, f, limit=limit, min_n=min_n)
