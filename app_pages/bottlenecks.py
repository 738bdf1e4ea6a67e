"""Bottlenecks: how fast each organisation acknowledges, decides and serves referrals, which
referrals are overdue, the worst hand-offs, and the time cases spend in each stage."""
import pandas as pd
import streamlit as st

from dashboard import privacy, ui
from dashboard.charts import bottlenecks as charts
from dashboard.domain import DECLINE_REASON_LABELS, DECLINE_REASONS, ORG_TYPE_LABELS, SERVICE_LABELS, STAGE_LABELS
from dashboard.queries import bottlenecks as q

ctx = ui.context()
_ = ctx._
t = ctx.t
k = ctx.settings.k
aggregate_only = ctx.viewer.aggregate_only

st.title(_("Bottlenecks between agencies"))
st.caption(_("Figures for {period}.").format(period=t.period(ctx.filters.start, ctx.filters.end)))
if aggregate_only:
    st.caption(_(privacy.SUPPRESSION_NOTE).format(k=k, k1=k - 1) + " "
               + _("Medians and rates over fewer than {k} referrals or cases are not shown.").format(k=k))


def count_text(value) -> str:
    if isinstance(value, str):
        return value  # "< k" or "*"
    if value is None or pd.isna(value):
        return "—"
    return t.number(value)


def days_text(value) -> str:
    if value is None or isinstance(value, str) or pd.isna(value):
        return "—"
    return t.number(value, 1)


def share_text(value) -> str:
    if value is None or isinstance(value, str) or pd.isna(value):
        return "—"
    return t.percent(value)


def change_text(value) -> str:
    if value is None or isinstance(value, str) or pd.isna(value):
        return "—"
    if value == 0:
        return t.number(0, 1)
    return ("+" if value > 0 else "−") + t.number(abs(value), 1)


def visible(df: pd.DataFrame, col: str) -> bool:
    """Whether a chart of ``col`` would show anything (hidden "< k" / "*" cells are dropped)."""
    return bool(pd.to_numeric(df[col], errors="coerce").fillna(0).gt(0).any())


def all_hidden_notice() -> None:
    ui.empty_notice(t, _("Every count here is below {k}: hidden to protect survivors.").format(k=k))


def org_label(name, code) -> str:
    return f"{name} ({code})"


def pair_codes(df: pd.DataFrame) -> list[str]:
    return [f"{a} → {b}" for a, b in zip(df["from_org"], df["to_org"])]


def pair_names(df: pd.DataFrame) -> list[str]:
    return [f"{a} → {b}" for a, b in zip(df["from_name"], df["to_name"])]


def formatted(df: pd.DataFrame, counts=(), days=(), shares=(), changes=()) -> pd.DataFrame:
    out = df.copy()
    for col in counts:
        out[col] = out[col].map(count_text)
    for col in days:
        out[col] = out[col].map(days_text)
    for col in shares:
        out[col] = out[col].map(share_text)
    for col in changes:
        out[col] = out[col].map(change_text)
    return out


PAIRS_SHOWN = 40  # per-pair table: the busiest pairs, unless one organisation is chosen
OVERDUE_SHOWN = 100  # overdue referrals by case: the most overdue
MEASURE_COLS = [f"{m}_{s}" for m in q.MEASURES for s in ("median", "p90")]
MEASURE_STATS = {f"{m}_{s}": f"{m}_n" for m in q.MEASURES for s in ("median", "p90")}
N_COLS = [f"{m}_n" for m in q.MEASURES]
measure_labels = {m: _(q.MEASURE_LABELS[m]) for m in q.MEASURES}
help_days = _("Days from sending to that step, over the referrals whose step happened in the period: "
              "median, 90th percentile and n.")

# ---------------------------------------------------------------- headline figures
levels = ctx.query(q.performance_levels)  # overall, per receiver and per pair: one statement
overall = ctx.protect(levels["all"], counts=["sent", "decisions", "decision_n"],
                      stats={"acceptance_rate": "decisions", "decision_median": "decision_n"})
within = ctx.protect(ctx.query(q.decided_within_target), counts=["decided", "within_target"],
                     stats={"share": "decided"})
overdue_now = ctx.protect(ctx.query(q.overdue_summary), counts=["pending", "overdue", "n"],
                          stats={"median_age": "n", "p90_age": "n"})
row = overall.iloc[0] if not overall.empty else None
w = within.iloc[0]
o = overdue_now.iloc[0]
cols = st.columns(4)
with cols[0]:
    ui.metric(_("Referrals sent"), count_text(row["sent"] if row is not None else 0),
              help=_("Referrals whose sending date falls in the period."))
with cols[1]:
    ui.metric(_("Acceptance rate"), share_text(row["acceptance_rate"]) if row is not None else "—",
              help=_("Accepted ÷ (accepted + declined), over the decisions taken in the period (n = {n}).").format(
                  n=count_text(row["decisions"]) if row is not None else 0))
with cols[2]:
    median = days_text(row["decision_median"]) if row is not None else "—"
    ui.metric(_("Median days to decision"), _("{days} days").format(days=median) if median != "—" else median,
              help=_("Decision date − sending date, over the referrals decided in the period (n = {n}).").format(
                  n=count_text(row["decision_n"]) if row is not None else 0))
with cols[3]:
    ui.metric(_("Decided within target"), share_text(w["share"]),
              help=_("Referrals decided in the period within the target days for the receiving organisation type "
                     "or service ({within} of {decided}; referrals without a target are left out).").format(
                  within=count_text(w["within_target"]), decided=count_text(w["decided"])))

# ---------------------------------------------------------------- ranking
st.subheader(_("Worst hand-offs"))
st.caption(_("Pairs of organisations ordered by the median days from sending a referral to the decision, over the "
             "referrals decided in the period (ties: most overdue first), with the change against the previous "
             "period of equal length ({previous}).").format(
    previous=t.period(ctx.filters.previous().start, ctx.filters.previous().end)))
ranking = ctx.protect(ctx.query(q.ranking, limit=10, min_n=k if aggregate_only else 1),
                      counts=q.RANKING_COUNTS, stats=q.RANKING_STATS)
if ranking.empty:
    ui.empty_notice(t)
else:
    rk = formatted(ranking, counts=["n", "overdue", "previous_n"], days=["median", "p90", "previous_median"],
                   changes=["change"])
    rk["pair"] = pair_codes(rk)
    rk["names"] = pair_names(rk)
    rk.insert(0, "rank", range(1, len(rk) + 1))
    ui.show_dataframe(
        rk[["rank", "pair", "median", "previous_median", "change", "n", "overdue", "p90", "names"]],
        columns={"rank": _("Rank"), "pair": _("Hand-off"), "names": _("Organisations"),
                 "median": _("Median days to decision"), "p90": _("90th percentile (days)"), "n": _("Decisions (n)"),
                 "overdue": _("Overdue today"), "previous_median": _("Previous period median"),
                 "change": _("Change (days)")},
    )
    if aggregate_only:
        st.caption(_("Only pairs with at least {k} decisions in the period are ranked.").format(k=k))

# ---------------------------------------------------------------- per receiving organisation
st.subheader(_("Per receiving organisation"))
st.caption(_("Sent, acknowledged and decided count the referrals whose own date falls in the period. "
             "Acceptance rate = accepted ÷ (accepted + declined).") + " " + help_days)
raw = levels["receiver"]
if raw.empty:
    ui.empty_notice(t)
else:
    per = privacy.protect(raw, ctx.viewer, k, counts=N_COLS,
                          stats={**MEASURE_STATS, "acceptance_rate": "decisions"})
    for counts, total in ((["sent"], None), (["acknowledged"], None), (["accepted", "declined"], "decisions")):
        shown = privacy.protect_table(raw, ctx.viewer, k, counts, total_col=total)
        for col in counts + ([total] if total else []):
            per[col] = shown[col]
    measure = st.radio(_("Chart"), q.MEASURES, index=1, format_func=measure_labels.get, horizontal=True,
                       key="bottlenecks_measure")
    cd = per.copy()
    cd["org"] = cd["to_org"]
    cd["median"], cd["p90"] = cd[f"{measure}_median"], cd[f"{measure}_p90"]
    cd["name"] = [org_label(n, c) for n, c in zip(cd["to_name"], cd["to_org"])]
    cd["median_text"], cd["p90_text"] = cd["median"].map(days_text), cd["p90"].map(days_text)
    cd["n_text"] = cd[f"{measure}_n"].map(count_text)
    if pd.to_numeric(cd["median"], errors="coerce").notna().any():
        ctx.chart(charts.median_p90,
                  cd, "org", _("Received by"), measure_labels[measure], _("Median"), _("90th percentile"),
                  {"name": _("Received by"), "median_text": _("Median"), "p90_text": _("90th percentile"), "n_text": "n"})
    else:
        ui.empty_notice(t, _("No interval of this kind closed in the period (or too few to show)."))
    table = formatted(per, counts=["sent", "acknowledged", "accepted", "declined", "decisions", *N_COLS],
                      days=MEASURE_COLS, shares=["acceptance_rate"])
    table["type"] = [t.label(ORG_TYPE_LABELS, x) for x in table["to_type"]]
    headers = {"to_org": _("Received by"), "sent": _("Sent"), "acknowledged": _("Acknowledged"),
               "accepted": _("Accepted referrals"), "declined": _("Declined referrals"), "decisions": _("Decisions"),
               "acceptance_rate": _("Acceptance rate")}
    for m in q.MEASURES:
        headers |= {f"{m}_median": _("{measure}: median").format(measure=measure_labels[m]),
                    f"{m}_p90": _("{measure}: 90th percentile").format(measure=measure_labels[m]),
                    f"{m}_n": _("{measure}: n").format(measure=measure_labels[m])}
    headers |= {"to_name": _("Organisation"), "type": _("Type")}
    ui.show_dataframe(table[list(headers)], columns=headers)

    # declines by reason
    st.markdown("**" + _("Declined referrals by reason") + "**")
    st.caption(_("Referrals declined in the period (decision date), per receiving organisation and reason given."))
    reasons = raw[["to_org", "to_name", *(f"declined_{r}" for r in DECLINE_REASONS)]].melt(
        id_vars=["to_org", "to_name"], var_name="reason", value_name="declined")
    reasons["reason"] = reasons["reason"].str.removeprefix("declined_")
    reasons = privacy.protect_crosstab(reasons, ctx.viewer, k, "to_org", "reason", "declined", totals=False)
    # where the table hides an organisation's declined total, its reasons must not add up to it
    masked = set(per.loc[per["declined"].map(lambda v: isinstance(v, str)), "to_org"])
    reasons = reasons[~reasons["to_org"].isin(masked)]
    reason_labels = [t.label(DECLINE_REASON_LABELS, r) for r in DECLINE_REASONS]
    reasons["reason_label"] = [t.label(DECLINE_REASON_LABELS, r) for r in reasons["reason"]]
    reasons["name"] = [org_label(n, c) for n, c in zip(reasons["to_name"], reasons["to_org"])]
    reasons["declined_text"] = reasons["declined"].map(count_text)
    if raw[[f"declined_{r}" for r in DECLINE_REASONS]].to_numpy().sum() == 0:
        ui.empty_notice(t, _("No referral was declined in this selection."))
    elif not visible(reasons, "declined"):
        all_hidden_notice()
    else:
        ctx.chart(charts.stacked, reasons, "to_org", _("Received by"), "declined", _("Referrals declined"),
                  "reason_label", _("Reason"), charts.REASON_COLOURS, reason_labels,
                  {"name": _("Received by"), "reason_label": _("Reason"), "declined_text": _("Referrals declined")})

# ---------------------------------------------------------------- per pair
st.subheader(_("Per pair of organisations"))
st.caption(_("The same figures for each sending and receiving organisation."))
raw_pairs = levels["pair"]
if not raw_pairs.empty:
    raw_pairs = raw_pairs.sort_values(["sent", "decisions", "from_org", "to_org"],
                                      ascending=[False, False, True, True]).reset_index(drop=True)
if raw_pairs.empty:
    ui.empty_notice(t)
else:
    pairs = privacy.protect(raw_pairs, ctx.viewer, k, counts=N_COLS,
                            stats={**MEASURE_STATS, "acceptance_rate": "decisions"})
    for col in ("sent", "acknowledged", "decisions"):
        pairs[col] = privacy.protect_crosstab(raw_pairs, ctx.viewer, k, "from_org", "to_org", col, totals=False)[col]
    # a few hundred pairs are too many to read (and to send) at once: the busiest, or every
    # pair of one organisation. Rows are left out, never changed: the protection above holds.
    if len(pairs) > PAIRS_SHOWN:
        orgs = pd.concat([raw_pairs[["from_org", "from_name"]].set_axis(["code", "name"], axis=1),
                          raw_pairs[["to_org", "to_name"]].set_axis(["code", "name"], axis=1)])
        org_names = dict(orgs.drop_duplicates("code").sort_values("code").itertuples(index=False))
        busiest = _("The {n} pairs with the most referrals sent").format(n=t.number(PAIRS_SHOWN))
        org = st.selectbox(_("Pairs to show"), ["", *org_names], key="bottlenecks_pairs_org",
                           format_func=lambda c: org_label(org_names[c], c) if c else busiest)
        if org:
            pairs = pairs[(pairs["from_org"] == org) | (pairs["to_org"] == org)]
            st.caption(_("Showing the {n} pairs in which {org} sends or receives, of {total} pairs.").format(
                n=t.number(len(pairs)), org=org_label(org_names[org], org), total=t.number(len(raw_pairs))))
        else:
            pairs = pairs.head(PAIRS_SHOWN)
            st.caption(_("Showing the {n} pairs with the most referrals sent, of {total} pairs. Choose an "
                         "organisation above to see all its pairs.").format(
                n=t.number(PAIRS_SHOWN), total=t.number(len(raw_pairs))))
    table = formatted(pairs, counts=["sent", "acknowledged", "accepted", "declined", "decisions", *N_COLS],
                      days=MEASURE_COLS, shares=["acceptance_rate"])
    table["pair"] = pair_codes(table)
    table["names"] = pair_names(table)
    headers = {"pair": _("Hand-off"), "sent": _("Sent"), "acknowledged": _("Acknowledged")}
    if not aggregate_only:  # accepted and declined are parts of decisions: shown with it to case-level roles
        headers |= {"accepted": _("Accepted referrals"), "declined": _("Declined referrals")}
    headers |= {"decisions": _("Decisions"), "acceptance_rate": _("Acceptance rate")}
    for m in q.MEASURES:
        headers |= {f"{m}_median": _("{measure}: median").format(measure=measure_labels[m]),
                    f"{m}_p90": _("{measure}: 90th percentile").format(measure=measure_labels[m]),
                    f"{m}_n": _("{measure}: n").format(measure=measure_labels[m])}
    headers |= {"names": _("Organisations")}
    ui.show_dataframe(table[list(headers)], columns=headers, height=min(360, 35 * len(table) + 38))

# ---------------------------------------------------------------- overdue
st.subheader(_("Overdue referrals"))
st.caption(_("Referrals with no decision whose age today (today − sending date) exceeds the target for the receiving "
             "organisation type or service in the country profile, by age."))
o_cols = st.columns(3)
with o_cols[0]:
    ui.metric(_("Awaiting a decision"), count_text(o["pending"]), help=_("Referrals sent with no decision yet, today."))
with o_cols[1]:
    ui.metric(_("Overdue"), count_text(o["overdue"]), help=_("Of which past their target."))
with o_cols[2]:
    age = days_text(o["median_age"])
    ui.metric(_("Median age of overdue referrals"), _("{days} days").format(days=age) if age != "—" else age,
              help=_("Today − sending date, over the overdue referrals (90th percentile: {p90} days).").format(
                  p90=days_text(o["p90_age"])))
raw_age = ctx.query(q.overdue_by_age)
if raw_age.empty:
    ui.empty_notice(t, _("No overdue referral in this selection."))
else:
    ages = privacy.protect_crosstab(raw_age, ctx.viewer, k, "to_org", "bucket", "referrals", totals=False)
    bucket_labels = [_(q.AGE_BUCKET_LABELS[b]) for b, _lo, _hi in q.AGE_BUCKETS]
    ages["bucket_label"] = [_(q.AGE_BUCKET_LABELS[b]) for b in ages["bucket"]]
    ages["name"] = [org_label(n, c) for n, c in zip(ages["to_name"], ages["to_org"])]
    ages["referrals_text"] = ages["referrals"].map(count_text)
    if not visible(ages, "referrals"):
        all_hidden_notice()
    else:
        ctx.chart(charts.stacked, ages, "to_org", _("Received by"), "referrals", _("Overdue referrals"),
                  "bucket_label", _("Age"), charts.AGE_COLOURS, bucket_labels,
                  {"name": _("Received by"), "bucket_label": _("Age"), "referrals_text": _("Overdue referrals")})
if ctx.viewer.case_level and not raw_age.empty:
    with st.expander(_("Overdue referrals by case (committee only)"), icon=":material/lock:"):
        listing = ctx.case_query(q.overdue_list, limit=OVERDUE_SHOWN)
        overdue_total = pd.to_numeric(o["overdue"], errors="coerce")
        if pd.notna(overdue_total) and len(listing) < overdue_total:
            st.caption(_("Showing the {n} most overdue referrals of {total}, most overdue first.").format(
                n=t.number(len(listing)), total=t.number(overdue_total)))
        lt = listing.copy()
        lt["pair"] = pair_codes(lt)
        lt["names"] = pair_names(lt)
        lt["service"] = [t.label(SERVICE_LABELS, s) for s in lt["service_type"]]
        lt["sent"] = [t.date(d) for d in lt["sent_on"]]
        ui.show_dataframe(
            lt[["case_code", "referral_code", "pair", "service", "sent", "age_days", "target_days", "days_over",
                "names"]],
            columns={"case_code": _("Case"), "referral_code": _("Referral"), "pair": _("Hand-off"),
                     "names": _("Organisations"), "service": _("Service asked for"), "sent": _("Sent on"),
                     "age_days": _("Age (days)"), "target_days": _("Target (days)"), "days_over": _("Days over target")},
        )

# ---------------------------------------------------------------- time in stage
st.subheader(_("Time in each stage of the referral chain"))
st.caption(_("Entry into the next stage − entry into this one, for the cases whose next-stage entry falls in the "
             "period (median and 90th percentile). Cases still in a stage are the backlog, with their age "
             "(today − entry), and do not count in the median."))
stages = ctx.protect(ctx.query(q.time_in_stage), counts=["n", "backlog"],
                     stats={"median": "n", "p90": "n", "backlog_median_age": "backlog", "backlog_p90_age": "backlog"})
if stages.empty:
    ui.empty_notice(t)
else:
    sd = stages.copy()
    sd["label"] = [t.label(STAGE_LABELS, s) for s in sd["stage"]]
    order = sd["label"].tolist()
    sd["median_text"], sd["p90_text"] = sd["median"].map(days_text), sd["p90"].map(days_text)
    sd["n_text"], sd["backlog_text"] = sd["n"].map(count_text), sd["backlog"].map(count_text)
    sd["age_text"] = sd["backlog_median_age"].map(days_text)
    if pd.to_numeric(sd["median"], errors="coerce").notna().any():
        ctx.chart(charts.median_p90, sd, "label", None, _("Days in the stage"), _("Median"), _("90th percentile"),
                  {"label": _("Stage"), "median_text": _("Median"), "p90_text": _("90th percentile"), "n_text": "n"},
                  order=order)
    else:
        ui.empty_notice(t)
    if visible(sd, "backlog"):
        ctx.chart(charts.backlog, sd, None, _("Cases in the stage today"), order,
                  {"label": _("Stage"), "backlog_text": _("Cases in the stage today"), "age_text": _("Median age (days)")})
    st_table = formatted(sd, counts=["n", "backlog"], days=["median", "p90", "backlog_median_age", "backlog_p90_age"])
    ui.show_dataframe(
        st_table[["label", "median", "p90", "n", "backlog", "backlog_median_age", "backlog_p90_age"]],
        columns={"label": _("Stage"), "median": _("Median days"), "p90": _("90th percentile (days)"),
                 "n": _("Cases that moved on (n)"), "backlog": _("Cases in the stage today"),
                 "backlog_median_age": _("Median age (days)"), "backlog_p90_age": _("Age, 90th percentile (days)")},
    )

