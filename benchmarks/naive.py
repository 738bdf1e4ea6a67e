"""The naive baseline: what a page would cost if it read its tables into pandas and
aggregated there, on every load, instead of asking SQL for the small answer.

``run(url_path, engine, tables, filters)`` reads every table in ``tables`` (the tables the
page's own statements touch, found by benchmarks.measure) with ``pd.read_sql`` in full, then
computes one or two of that page's main aggregates in pandas (DOMAIN.md definitions, national
filters). Returns the number of rows read. The answers are not compared with the page's: this
is a cost baseline, and its aggregates are kept simple on purpose.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

STAGE_ORDER = {"detection": 0, "identification": 1, "immediate_assistance": 2, "protection": 3,
               "return_reintegration": 4, "closed": 5}
CLOSED = {"completed", "cancelled"}


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = pd.to_datetime(df[c], errors="coerce")
    return df


def _period(f):
    if f is None:
        today = date.today()
        return pd.Timestamp(today - timedelta(days=365)), pd.Timestamp(today), pd.Timestamp(today)
    return pd.Timestamp(f.start), pd.Timestamp(f.end), pd.Timestamp(f.today)


def _in(df, col, start, end):
    return df[(df[col] >= start) & (df[col] <= end)]


# ---------------------------------------------------------------- per page
def home(t, f):
    start, end, today = _period(f)
    cases = _dates(t["cases"], "identified_on")
    out = {"identified": len(_in(cases, "identified_on", start, end))}
    if "referrals" in t:
        r = _dates(t["referrals"], "sent_on", "decided_on").merge(cases[["id"]], left_on="case_id", right_on="id")
        out["pending"] = int(((r.sent_on <= end) & (r.decided_on.isna() | (r.decided_on > end))).sum())
    if "shelter_stays" in t:
        s = _dates(t["shelter_stays"], "entered_on", "exited_on")
        out["beds"] = int(((s.entered_on <= today) & (s.exited_on.isna() | (s.exited_on > today))).sum())
    per_month = _in(cases, "identified_on", start, end).groupby(cases.identified_on.dt.to_period("M")).size()
    return out, per_month


def case_flow(t, f):
    start, end, _ = _period(f)
    cases = _dates(t["cases"], "identified_on")
    cohort = _in(cases, "identified_on", start, end)[["id"]]
    ev = t["stage_events"].merge(cohort, left_on="case_id", right_on="id")
    ev["pos"] = ev["stage"].map(STAGE_ORDER)
    furthest = ev.dropna(subset=["pos"]).groupby("case_id")["pos"].max().value_counts().sort_index()
    matrix = None
    if "referrals" in t:
        r = _in(_dates(t["referrals"], "sent_on"), "sent_on", start, end)
        matrix = r.groupby(["from_org_id", "to_org_id"]).size()
    return furthest, matrix


def _decided(t, f):
    start, end, _ = _period(f)
    r = _dates(t["referrals"], "sent_on", "decided_on")
    if "cases" in t:
        r = r.merge(t["cases"][["id", "region_id"]], left_on="case_id", right_on="id", suffixes=("", "_case"))
    return r, _in(r, "decided_on", start, end)


def bottlenecks(t, f):
    _, _, today = _period(f)
    r, decided = _decided(t, f)
    d = (decided.decided_on - decided.sent_on).dt.days
    stats = d.groupby([decided.from_org_id, decided.to_org_id]).agg(["median", lambda s: s.quantile(0.9), "size"])
    open_ = r[r.decided_on.isna() & (r.sent_on <= today)]
    overdue = ((today - open_.sent_on).dt.days > 3).groupby(open_.to_org_id).sum()
    return stats.sort_values("median", ascending=False), overdue


def case_review(t, f):
    _, _, today = _period(f)
    r = _dates(t["referrals"], "sent_on", "decided_on")
    open_ = r[r.decided_on.isna() & (r.sent_on <= today)].copy()
    open_["age"] = (today - open_.sent_on).dt.days
    cases = t["cases"][["id", "code"]].rename(columns={"id": "cid", "code": "case_code"})
    agenda = open_.merge(cases, left_on="case_id", right_on="cid").sort_values("age", ascending=False).head(100)
    return agenda[["case_code", "age"]]


def shelters(t, f):
    start, end, today = _period(f)
    s = _dates(t["shelter_stays"], "entered_on", "exited_on")
    exit_ = s.exited_on.fillna(today + pd.Timedelta(days=1))
    first = s.entered_on.clip(lower=start)
    last = exit_.clip(upper=end + pd.Timedelta(days=1))
    s["nights"] = (last - first).dt.days.clip(lower=0)
    used = s.groupby("shelter_id")["nights"].sum()
    if "shelter_capacity" in t:
        cap = t["shelter_capacity"]
        beds = cap.assign(beds=cap.beds_women + cap.beds_men + cap.beds_girls + cap.beds_boys).groupby("shelter_id")["beds"].max()
        used = used / (beds * ((end - start).days + 1))
    tonight = ((s.entered_on <= today) & (s.exited_on.isna() | (s.exited_on > today))).groupby(s.shelter_id).sum()
    return used, tonight


def action_plan(t, f):
    _, _, today = _period(f)
    a = _dates(t["plan_activities"], "planned_end")
    a["state"] = a["status"].where(~((a.planned_end < today) & ~a.status.isin(CLOSED)), "delayed")
    return a.groupby(["pillar", "state"]).size(), a.groupby("pillar")[["budget_planned", "budget_spent"]].sum()


def project_indicators(t, f):
    v = _dates(t["indicator_values"], "period_end")
    latest = v.sort_values("period_end").groupby("indicator_id").tail(1)
    if "indicators" in t:
        i = t["indicators"].merge(latest, left_on="id", right_on="indicator_id", how="left")
        i["progress"] = ((i.value - i.baseline) / (i.target - i.baseline)).clip(0, 1)
        return i[["code", "progress"]]
    return latest


def summary(t, f):
    start, end, _ = _period(f)
    cases = _dates(t["cases"], "identified_on")
    prev_start = start - (end - start) - pd.Timedelta(days=1)
    victims = cases[cases.trafficking_status != "not_victim"]
    now = _in(victims, "identified_on", start, end).groupby("sex").size()
    before = _in(victims, "identified_on", prev_start, start - pd.Timedelta(days=1)).groupby("sex").size()
    slowest = bottlenecks(t, f)[0].head(3) if "referrals" in t else None
    return now, before, slowest


def admin(t, f):
    log = _dates(t["audit_log"], "at") if "audit_log" in t else pd.DataFrame({"at": []})
    recent = log[log["at"] >= pd.Timestamp.now() - pd.Timedelta(days=30)].sort_values("at", ascending=False).head(50)
    return recent, len(t.get("users", []))


def generic(t, f):
    """Any other page: per table, rows in the period by its first date column and first text column."""
    start, end, _ = _period(f)
    out = {}
    for name, df in t.items():
        date_cols = [c for c in df.columns if c.endswith(("_on", "_at"))]
        text_cols = [c for c in df.columns if df[c].dtype == object and c not in date_cols]
        if date_cols:
            df = _in(_dates(df, date_cols[0]), date_cols[0], start, end)
        out[name] = df.groupby(text_cols[0]).size() if text_cols else len(df)
    return out


AGGREGATES = {
    "home": home, "summary": summary, "case-flow": case_flow, "bottlenecks": bottlenecks,
    "case-review": case_review, "shelters": shelters, "action-plan": action_plan,
    "project-indicators": project_indicators, "admin": admin,
}
NEEDS = {  # tables an aggregate reads even if the page's statements did not name them
    "home": ["cases"], "summary": ["cases"], "case-flow": ["cases", "stage_events"], "bottlenecks": ["referrals"],
    "case-review": ["referrals", "cases"], "shelters": ["shelter_stays"], "action-plan": ["plan_activities"],
    "project-indicators": ["indicator_values"], "admin": ["audit_log"],
}


def run(url_path: str, engine, tables: list[str], filters) -> int:
    """Read the tables in full, aggregate in pandas; returns rows read."""
    wanted = sorted(set(tables) | set(NEEDS.get(url_path, [])))
    frames = {}
    with engine.connect() as conn:
        for name in wanted:
            frames[name] = pd.read_sql(sa.text(f'SELECT * FROM "{name}"'), conn)
    AGGREGATES.get(url_path, generic)(frames, filters)
    return sum(len(df) for df in frames.values())
