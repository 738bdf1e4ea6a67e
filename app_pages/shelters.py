"""Shelters: who is in which shelter tonight against its beds, how full shelters were over
the period, nights over capacity, entries and exits, length of stay, referrals declined for
lack of space and stays still open for long. Definitions: dashboard/queries/shelters.py."""
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.charts import month_dates
from dashboard.charts import shelters as charts
from dashboard.domain import BED_CATEGORIES, EXIT_DESTINATION_LABELS, SEX_LABELS
from dashboard.queries import shelters as q

PICKER_MIN = 9  # a shelter picker when there are more shelters than this minus one
FLAG_CSS = "background-color: #f9d6d5; color: #8b1a1a; font-weight: 600"

ctx = ui.context()
_ = ctx._
t = ctx.t
f = ctx.filters
k = ctx.settings.k
aggregate = ctx.viewer.aggregate_only


def fmt(value, digits: int = 0) -> str:
    """A protected cell as text: hidden markers as they are, numbers in the session's language."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "—"
    return t.number(value, digits)


def pct(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "—"
    return t.percent(value)


def show(builder, *args, **kwargs) -> None:
    """Draw the chart of ``builder`` (dashboard.charts.shelters) through the spec cache."""
    ctx.chart(charts.in_language, builder.__name__, ctx.lang, *args, **kwargs)


def total_of(df: pd.DataFrame, col: str) -> int:
    return int(pd.to_numeric(df[col]).sum()) if not df.empty else 0


def protected_total(value: int) -> str:
    """One national total, protected like every count."""
    shown = ctx.protect(pd.DataFrame({"v": [value]}), counts=["v"])["v"].iloc[0]
    return fmt(shown)


st.title(_("Shelters"))
st.caption(_("Shelters of the selected regions (a shelter counts in its own region, whatever the region of "
             "the people it hosts). Period: {period}.").format(period=t.period(f.start, f.end)))

thresholds = ctx.query(q.review_thresholds)
full_pct, long_days = thresholds["shelter_full_pct"], thresholds["long_stay_days"]
shelter_list = ctx.query(q.shelter_list)
if shelter_list.empty:
    ui.empty_notice(t, _("No shelter is recorded in the selected regions."))
    st.stop()

picked: tuple[str, ...] = ()
if len(shelter_list) >= PICKER_MIN:
    names = dict(zip(shelter_list["shelter_code"], shelter_list["shelter"]))
    picked = tuple(st.multiselect(_("Shelters"), list(names), format_func=names.get, key="shelters_pick",
                                  placeholder=_("All shelters"),
                                  help=_("Leave empty for every shelter of the selected regions.")))
if aggregate:
    st.caption(_("“< {k}”: fewer than {k} people, hidden to protect them; “{star}”: hidden so that a hidden "
                 "count cannot be worked out from a total.").format(k=k, star=q.SECONDARY_LABEL))

CAT_LABELS = {c: _(q.CATEGORY_LABELS[c]) for c in q.CATEGORIES}

# ---------------------------------------------------------------- tonight
st.header(_("Tonight"))
occ_raw = ctx.query(q.occupancy_today, picked)
occ = q.full_flags(q.protect_occupancy(occ_raw, ctx.viewer, k), full_pct)
people_tonight = total_of(occ_raw, "occ_total")
beds_tonight = int(pd.to_numeric(occ_raw["beds_total"]).fillna(0).sum()) if not occ_raw.empty else 0
cols = st.columns(4)
with cols[0]:
    ui.metric(_("In a shelter tonight"), protected_total(people_tonight),
              help=_("People whose stay has begun and not ended: entry ≤ today < exit, or no exit yet."))
with cols[1]:
    ui.metric(_("Beds today"), t.number(beds_tonight),
              help=_("Beds of the capacity recorded for today, all bed categories together."))
with cols[2]:
    ui.metric(_("Shelters ≥ {pct} % full").format(pct=full_pct), t.number(int(occ["full"].sum())),
              help=_("Shelters where people tonight ÷ beds today reaches the country profile's threshold ({pct} %).")
              .format(pct=full_pct))
long_counts = ctx.query(q.long_open_stays_count, long_days, picked)
long_total = total_of(long_counts, "stays")
with cols[3]:
    ui.metric(_("Stays open > {days} days").format(days=long_days), protected_total(long_total),
              help=_("Stays with no exit yet that began more than {days} days ago (country profile threshold).")
              .format(days=long_days))

st.subheader(_("Occupancy today against today's beds"))
st.caption(_("People tonight ÷ beds of today's capacity, per shelter. Red: at or above {pct} %, or a bed "
             "category as full (people ≥ {pct} % of its beds, or people in a category that has no bed).")
           .format(pct=full_pct))
chart_data = occ.copy()
chart_data["label_text"] = [f"{fmt(p)} / {fmt(b)}" for p, b in zip(occ["occ_total"], occ["beds_total"])]
chart_data["tooltip_text"] = [
    _("{people} of {beds} beds ({pct})").format(people=fmt(p), beds=fmt(b), pct=pct(o))
    for p, b, o in zip(occ["occ_total"], occ["beds_total"], occ["occupancy"])
]
if pd.to_numeric(chart_data["occupancy"], errors="coerce").notna().any():
    show(charts.occupancy_bars,
         chart_data, full_pct, _("Shelter"), _("Occupancy today"), _("Threshold: {pct} %").format(pct=full_pct),
         _("At or above {pct} %").format(pct=full_pct), _("Below {pct} %").format(pct=full_pct))
elif not occ.empty:
    st.caption(_("No occupancy rate can be shown for this selection."))
not_drawn = [s for s, o in zip(occ["shelter"], pd.to_numeric(occ["occupancy"], errors="coerce")) if pd.isna(o)]
if not_drawn and len(not_drawn) < len(occ):
    st.caption(_("Not drawn (no beds recorded today, or too few people to show a rate): {shelters}.")
               .format(shelters=", ".join(not_drawn)))

show_unassigned = bool((occ_raw["occ_unassigned"] > 0).any()) if not occ_raw.empty else False
table = pd.DataFrame({_("Shelter"): occ["shelter"], _("Region"): occ["region"]})
flag_cols = {}
for cat in BED_CATEGORIES:
    label = CAT_LABELS[cat]
    table[label] = [f"{fmt(p)} / {fmt(b)}" for p, b in zip(occ[f"occ_{cat}"], occ[f"beds_{cat}"])]
    flag_cols[label] = occ[f"full_{cat}"].tolist()
if show_unassigned:
    table[CAT_LABELS[q.UNASSIGNED]] = [fmt(v) for v in occ["occ_unassigned"]]
table[_("Total")] = [f"{fmt(p)} / {fmt(b)}" for p, b in zip(occ["occ_total"], occ["beds_total"])]
table[_("Occupancy")] = [pct(v) for v in occ["occupancy"]]
flag_cols[_("Total")] = occ["full"].tolist()
flag_cols[_("Occupancy")] = occ["full"].tolist()


def _flag_styles(frame: pd.DataFrame) -> pd.DataFrame:
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for col, flags in flag_cols.items():
        css[col] = [FLAG_CSS if fl else "" for fl in flags]
    return css


st.dataframe(table.style.apply(_flag_styles, axis=None), hide_index=True, width="stretch")
st.caption(_("Each cell: people tonight / beds today."))
if show_unassigned:
    st.caption(_("“Not assigned”: people whose sex is recorded as transgender / non-conforming or unknown, or whose "
                 "age is unknown; they count in the total, against all the shelter's beds."))
no_cap_today = occ_raw[~occ_raw["has_capacity"]]["shelter"].tolist() if not occ_raw.empty else []
if no_cap_today:
    st.warning(_("No capacity is recorded for today for: {shelters}. Their beds are unknown, not zero.")
               .format(shelters=", ".join(no_cap_today)), icon=":material/warning:")

# ---------------------------------------------------------------- utilisation
st.header(_("Bed utilisation over the period"))
overall_raw = ctx.query(q.overall_utilisation, picked)
overall = ctx.protect(overall_raw, counts=["bed_nights_used", "people"], stats={"utilisation": "people"})
gaps = ctx.query(q.capacity_gaps, picked)
if overall.empty:
    ui.empty_notice(t, _("The period has no night that is over yet: bed utilisation starts with last night."))
else:
    row = overall.iloc[0]
    cols = st.columns(3)
    with cols[0]:
        ui.metric(_("Bed utilisation"), pct(row["utilisation"]),
                  help=_("Bed-nights used ÷ bed-nights available: people present each night ÷ beds that night, "
                         "summed over the nights of the period (entry ≤ night < exit; open stays up to today)."))
    with cols[1]:
        ui.metric(_("Bed-nights used / available"), f"{fmt(row['bed_nights_used'])} / {fmt(row['bed_nights_available'])}",
                  help=_("Sum over the nights of the period of the people present and of the beds, for the "
                         "nights that have a recorded capacity."))
    with cols[2]:
        ui.metric(_("Nights over capacity"), t.number(int(row["nights_over_capacity"])),
                  help=_("Shelter-nights on which a bed category held more people than its beds, or the shelter "
                         "more people than all its beds."))
    for g in gaps.to_dict("records"):
        st.warning(_("{shelter}: no capacity recorded for {n} of the {nights} nights ({first} – {last}). "
                     "Those nights are left out of utilisation, not counted as zero beds.").format(
            shelter=g["shelter"], n=t.number(g["nights_without_capacity"]), nights=t.number(g["nights"]),
            first=t.date(g["first_night"]), last=t.date(g["last_night"])), icon=":material/warning:")

    c1, c2 = st.columns(2)
    steps = {"week": _("Week"), "month": _("Month")}
    with c1:
        step = st.radio(_("Step"), list(steps), format_func=steps.get, horizontal=True, key="shelters_step",
                        index=0 if f.days <= 120 else 1)
    lines = {"shelter": _("Shelter"), "region": _("Region")}
    with c2:
        by = st.radio(_("One line per"), list(lines), format_func=lines.get, horizontal=True, key="shelters_by")
    series = ctx.protect(ctx.query(q.utilisation_series, by, step, picked), counts=["bed_nights_used", "people"],
                         stats={"utilisation": "people"})
    if series.empty:
        ui.empty_notice(t)
    elif int(overall_raw["bed_nights_used"].iloc[0]) == 0:
        ui.empty_notice(t, _("Nobody stayed in these shelters during the period: every bed was free (0 %)."))
    else:
        data = series.copy()
        data["series"] = data["shelter" if by == "shelter" else "region"]
        if step == "month":
            data = month_dates(data, "period")
            data["period_text"] = [t.month(d.date()) for d in data["period"]]
        else:
            data["period"] = pd.to_datetime(data["period"])
            data["period_text"] = [_("Week of {day}").format(day=t.date(d.date())) for d in data["period"]]
        data["utilisation_text"] = [pct(v) for v in data["utilisation"]]
        if charts.drawable(data, "utilisation"):
            show(charts.utilisation_lines, data, steps[step], _("Bed utilisation"), lines[by], _("Every bed used (100 %)"))
        else:
            st.caption(_("No rate can be shown: too few people, or no capacity recorded."))
        st.caption(_("Each point: bed-nights used ÷ bed-nights available in that week (only its nights inside the "
                     "period). A missing point: no capacity recorded, or too few people to show.") if step == "week" else
                   _("Each point: bed-nights used ÷ bed-nights available in that month (only its nights inside the "
                     "period). A missing point: no capacity recorded, or too few people to show."))

    per_shelter = ctx.query(q.utilisation, picked)
    shown = ctx.protect(per_shelter, counts=["bed_nights_used", "people"], stats={"utilisation": "people"})
    shown = q.secondary_suppress(shown, ["bed_nights_used"], axis="rows")
    st.subheader(_("Per shelter over the period"))
    per_table = pd.DataFrame({
        _("Shelter"): shown["shelter"],
        _("Region"): shown["region"],
        _("Bed utilisation"): [pct(v) for v in shown["utilisation"]],
        _("Bed-nights used"): [fmt(v) for v in shown["bed_nights_used"]],
        _("Bed-nights available"): [fmt(v) for v in shown["bed_nights_available"]],
        _("Nights over capacity"): [fmt(v) for v in shown["nights_over_capacity"]],
    })
    if not gaps.empty:
        per_table[_("Nights without capacity")] = [fmt(v) for v in shown["nights_without_capacity"]]
    ui.show_dataframe(per_table)
    if not aggregate:
        over = ctx.query(q.over_capacity_nights, picked)
        if not over.empty:
            with st.expander(_("Nights over capacity ({n})").format(n=t.number(len(over)))):
                ui.show_dataframe(pd.DataFrame({
                    _("Shelter"): over["shelter"],
                    _("Night"): [t.date(d) for d in over["night"]],
                    _("People"): [fmt(v) for v in over["occ_total"]],
                    _("Beds"): [fmt(v) for v in over["beds_total"]],
                    _("Over capacity"): [", ".join(CAT_LABELS[c] if c in CAT_LABELS else _("All beds")
                                                   for c in v.split(",")) for v in over["over"]],
                }))

# ---------------------------------------------------------------- entries and exits
st.header(_("Entries and exits"))
moves = ctx.protect(ctx.query(q.entries_exits, picked), counts=["entries", "exits"])
moves = q.secondary_suppress(moves, ["entries", "exits"], axis="rows")
c1, c2 = st.columns([3, 2])
with c1:
    st.subheader(_("Per month"))
    if moves.empty:
        ui.empty_notice(t)
    else:
        kinds = {"entries": _("Entries"), "exits": _("Exits")}
        long = moves.melt(id_vars="month", value_vars=list(kinds), var_name="code", value_name="count")
        long["kind"] = long["code"].map(kinds)
        long["month_text"] = [t.month(date.fromisoformat(m + "-01")) for m in long["month"]]
        long = long.sort_values(["month", "code"])
        show(charts.entries_exits_bars, long, _("Month"), _("Stays"), _("Movement"), list(kinds.values()))
        st.caption(_("Entries by entry date, exits by exit date, in the period."))
with c2:
    st.subheader(_("Exit destinations"))
    dest = ctx.protect(ctx.query(q.exit_destinations, picked), counts=["exits"])
    dest = q.secondary_suppress(dest, ["exits"], axis="rows")
    if dest.empty:
        ui.empty_notice(t)
    else:
        labels = {**EXIT_DESTINATION_LABELS, q.NO_DESTINATION: q.NO_DESTINATION_LABEL}
        dest["destination_label"] = [t.label(labels, d) for d in dest["destination"]]
        if charts.drawable(dest, "exits"):
            show(charts.horizontal_bars, dest, "destination_label", "exits", _("Destination"), _("Exits"))
        hidden = dest[[isinstance(v, str) for v in dest["exits"]]]
        if not hidden.empty:
            st.caption(_("Not drawn (hidden): {labels}.").format(labels=", ".join(hidden["destination_label"])))
        st.caption(_("Where people went on leaving, for the exits in the period."))

# ---------------------------------------------------------------- length of stay
st.header(_("Length of stay"))
breakdowns = {"shelter": _("Shelter"), "sex": _("Sex"), "age_group": _("Adult / child")}
by_los = st.radio(_("Break down by"), list(breakdowns), format_func=breakdowns.get, horizontal=True, key="shelters_los_by")
los = ctx.query(q.length_of_stay, by_los, picked)
los_all = ctx.query(q.length_of_stay, "all", picked)
st.caption(_("Days from entry to exit, for the stays that ended in the period: median (half stayed less, half more) "
             "and mean, with the number of stays (n)."))
if los.empty:
    ui.empty_notice(t)
else:
    stats = {"median": "n", "mean": "n"}
    shown = q.secondary_suppress(ctx.protect(los, counts=["n"], stats=stats), ["n"], axis="rows")
    total = ctx.protect(los_all, counts=["n"], stats=stats)
    if by_los == "shelter":
        group = list(shown["shelter"])
    elif by_los == "sex":
        group = [t.label(SEX_LABELS, v) for v in shown["sex"]]
    else:
        group = [t.label(q.AGE_GROUP_LABELS, v) for v in shown["age_group"]]
    rows = pd.concat([shown[["n", "median", "mean"]], total[["n", "median", "mean"]]], ignore_index=True)
    ui.show_dataframe(pd.DataFrame({
        breakdowns[by_los]: [*group, _("All stays")],
        _("Stays (n)"): [fmt(v) for v in rows["n"]],
        _("Median (days)"): [fmt(v, 1) for v in rows["median"]],
        _("Mean (days)"): [fmt(v, 1) for v in rows["mean"]],
    }))

# ---------------------------------------------------------------- declined for lack of space
st.header(_("Referrals declined for lack of space"))
declined_m = ctx.query(q.declined_no_capacity, "month", picked)
declined_o = ctx.query(q.declined_no_capacity, "organisation", picked)
if declined_m.empty:
    ui.empty_notice(t)
else:
    n_declined, n_decided = total_of(declined_m, "declined"), total_of(declined_m, "decided")
    share = ctx.protect(pd.DataFrame({"share": [n_declined / n_decided if n_decided else None], "n": [n_decided]}),
                        stats={"share": "n"})["share"].iloc[0]
    if aggregate and 0 < n_declined < k:
        share = None  # the share and the number decided would give the hidden count away
    cols = st.columns(2)
    with cols[0]:
        ui.metric(_("Declined for lack of space"), protected_total(n_declined),
                  help=_("Referrals asking for a shelter place, sent to an organisation that runs a shelter of the "
                         "selection, declined with the reason “no capacity”, by decision date in the period."))
    with cols[1]:
        ui.metric(_("Share of shelter referrals decided"), pct(share),
                  help=_("Declined for lack of space ÷ every shelter referral decided in the period (accepted or declined)."))
    monthly = ctx.protect(declined_m, counts=["declined", "decided"])
    monthly = q.secondary_suppress(monthly, ["declined", "decided"], axis="rows")
    monthly["month_text"] = [t.month(date.fromisoformat(m + "-01")) for m in monthly["month"]]
    if not charts.positive(monthly, "declined") and not any(isinstance(v, str) for v in monthly["declined"]):
        st.caption(_("No referral to these shelters was declined for lack of space in the period."))
    else:
        show(charts.declined_bars, monthly, _("Month of decision"), _("Declined (no space)"))
    by_org = ctx.protect(declined_o, counts=["declined", "decided"])
    by_org = q.secondary_suppress(by_org, ["declined", "decided"], axis="rows")
    st.subheader(_("Per shelter operator"))
    ui.show_dataframe(pd.DataFrame({
        _("Shelter operator"): by_org["organisation"],
        _("Declined (no space)"): [fmt(v) for v in by_org["declined"]],
        _("Decided"): [fmt(v) for v in by_org["decided"]],
        _("Share declined"): [pct(r) if not isinstance(d, str) and not isinstance(n, str) and n else "—"
                              for r, d, n in zip(declined_o["declined"] / declined_o["decided"].where(declined_o["decided"] > 0),
                                                 by_org["declined"], by_org["decided"])],
    }))

# ---------------------------------------------------------------- long open stays
st.header(_("Stays still open after {days} days").format(days=long_days))
st.caption(_("As of today (the period does not apply): stays with no exit that began more than {days} days ago, the "
             "country profile's review threshold.").format(days=long_days))
if long_counts.empty:
    ui.empty_notice(t, _("No stay has been open for more than {days} days.").format(days=long_days))
else:
    shown = q.secondary_suppress(ctx.protect(long_counts, counts=["stays"]), ["stays"], axis="rows")
    ui.show_dataframe(pd.DataFrame({_("Shelter"): shown["shelter"], _("Stays"): [fmt(v) for v in shown["stays"]]}))
    if not aggregate:
        cases = ctx.case_query(q.long_open_stays, long_days, picked)
        st.subheader(_("Cases to review"))
        if cases.empty:
            ui.empty_notice(t, _("None of these stays is of a case in your regions."))
        else:
            ui.show_dataframe(pd.DataFrame({
                _("Case code"): cases["case_code"],
                _("Shelter"): cases["shelter"],
                _("Entered on"): [t.date(d) for d in cases["entered_on"]],
                _("Days in the shelter"): [fmt(v) for v in cases["days"]],
            }))
