"""Summary: the headline figures for ministers against the previous period, in plain
sentences too, and the one-click meeting pack (PDF, XLSX)."""
import re

import streamlit as st

from dashboard import audit, narrative, ui
from dashboard.charts import plan as plan_charts
from dashboard.charts import summary as summary_charts
from dashboard.domain import PILLAR_LABELS, PILLARS
from dashboard.export import pack as packs
from dashboard.export import xlsx
from dashboard.i18n import translator
from dashboard.queries import bottlenecks, plan, summary

ctx = ui.context()
_ = ctx._
t, f, viewer, k = ctx.t, ctx.filters, ctx.viewer, ctx.settings.k
prev = f.previous()

st.title(_("Summary"))
st.caption(_("Figures for {period}, compared with the previous period of equal length ({previous}).").format(
    period=t.period(f.start, f.end), previous=t.period(prev.start, prev.end)))
if viewer.aggregate_only:
    st.caption(_("Counts from 1 to {k1} are shown as “< {k}” and medians or shares over fewer than {k} cases are "
                 "withheld, to protect survivors.").format(k=k, k1=k - 1))

head = ctx.protect(ctx.query(summary.headline), counts=summary.HEADLINE_COUNTS, stats=summary.HEADLINE_STATS)
head = head.iloc[0].to_dict()
pillars = ctx.query(plan.pillar_summary)
ranking = ctx.protect(ctx.query(summary.slowest_handoffs, k), counts=bottlenecks.RANKING_COUNTS,
                      stats=bottlenecks.RANKING_STATS)


# ---------------------------------------------------------------- formatting
def missing(value) -> bool:
    return packs.is_missing(value)


def shown(value, kind: str) -> str:
    """A protected figure as text: hidden counts as they are, withheld figures as a dash."""
    if isinstance(value, str):
        return value
    if missing(value):
        return "—"
    if kind == "days":
        return narrative.days_text(t, value)
    return packs.cell_text(t, value, kind)


def too_few(n) -> bool:
    return isinstance(n, str) or missing(n) or int(n) < k


def change(now, before, kind: str, colour: str, before_n=None) -> dict:
    """The delta of a metric against the previous period: never computed from a hidden
    count, nor (like the sentences) against a median or share over fewer than k cases."""
    off = {"delta_color": "off", "delta_arrow": "off"}
    if before_n is not None and too_few(before_n) and not missing(before):
        return {"delta": _("too few cases in the previous period"), **off}
    if missing(before) or missing(now):
        return {"delta": _("no figure for the previous period"), **off}
    if isinstance(now, str) or isinstance(before, str):
        return {"delta": _("previous period: {value}").format(value=shown(before, kind)), **off}
    description = _("vs {previous} before").format(previous=shown(before, kind))
    if kind == "percent":
        diff = round((float(now) - float(before)) * 100)
        text = _("{points} pts").format(points=f"{diff:+d}")
    elif kind == "days":
        diff = round(float(now) - float(before), 1)
        text = ("+" if diff > 0 else "-" if diff < 0 else "") + narrative.days_text(t, abs(diff))
    else:
        diff = int(now) - int(before)
        text = ("+" if diff > 0 else "-" if diff < 0 else "") + t.number(abs(diff))
    return {"delta": 0 if diff == 0 else text, "delta_description": description, "delta_color": colour}


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|$~])")


def escape(text: str) -> str:
    """Text shown through st.markdown as it is (organisation names may hold * or _)."""
    return _MARKDOWN.sub(r"\\\1", text)


def spark(values: list[float]) -> dict:
    return {"chart_data": values} if len(values) >= 2 else {}


# ---------------------------------------------------------------- headline figures
# The months add up to the headline figures above, so they get secondary suppression too:
# one hidden month could otherwise be worked out as the headline minus the months shown.
victims_m = ctx.protect_table(ctx.query(summary.victims_per_month), list(summary.VICTIM_COUNTS))
within_m = ctx.protect_table(ctx.query(summary.within_target_per_month), ["decided", "within_target"],
                             stats={"share": "decided"})
first_m = ctx.protect_table(ctx.query(summary.first_assistance_per_month), ["n"], stats={"median": "n", "p90": "n"})
util_m = ctx.protect_table(ctx.query(summary.utilisation_per_month), ["bed_nights_used", "people"],
                           stats={"utilisation": "people"})

FIGURES = [
    ("victims", "count", "off", _("Victims identified"), victims_m, "total",
     _("Cases whose identification date falls in the period, not counting those assessed as not a victim.")),
    ("women_girls", "count", "off", _("Women and girls"), victims_m, "women_girls",
     _("Victims identified in the period who are recorded as female, of any age.")),
    ("minors", "count", "off", _("Minors"), victims_m, "minors",
     _("Victims identified in the period whose age band at identification is 0–8 or 9–17.")),
    ("within_target", "percent", "normal", _("Referrals decided within target"), within_m, "share",
     _("Referrals decided in the period (decision date) within the target days of the receiving organisation "
       "type or service, out of the referrals decided in the period that have a target.")),
    ("first_assist", "days", "inverse", _("Days to first assistance (median)"), first_m, "median",
     _("Median of first service start − identification date, over the victims whose first service started "
       "in the period.")),
    ("utilisation", "percent", "off", _("Shelter bed utilisation"), util_m, "utilisation",
     _("Bed-nights used ÷ beds × nights, over the shelters of the selected regions and the nights of the period "
       "(capacity is dated).")),
]
RATE_N = {"within_target": "within_target_n_prev", "first_assist": "first_assist_n_prev",
          "utilisation": "utilisation_n_prev"}
st.subheader(_("Headline figures"))
for row_start in (0, 3):
    cols = st.columns(3)
    for col, (key, kind, colour, label, monthly, column, help_text) in zip(cols, FIGURES[row_start:row_start + 3]):
        with col:
            value = head[key]
            ui.metric(label, shown(value, kind), help=help_text, height="stretch",
                      **change(value, head[f"{key}_prev"], kind, colour, RATE_N.get(key) and head[RATE_N[key]]),
                      **spark(summary_charts.sparkline_values(monthly, column)))
st.caption(_("Lines: the figure month by month over the period (months with too few cases are left out)."))

# ---------------------------------------------------------------- action plan
st.subheader(_("National Action Plan"))
total = int(pillars["total"].sum()) if not pillars.empty else 0
if total == 0:
    ui.empty_notice(t, _("No action plan activity is in the selection."))
else:
    done_m = ctx.query(summary.completed_per_month)
    cols = st.columns(3)
    plan_help = _("Activities overlapping the period, in the chosen regions plus the national ones, as of today. "
                  "Delayed: due date passed and not completed or cancelled; on track: started and not yet due.")
    for col, state, label in zip(cols, ("completed", "on_track", "delayed"),
                                 (_("Activities completed"), _("Activities on track"), _("Activities delayed"))):
        n = int(pillars[state].sum())
        extra = spark(summary_charts.sparkline_values(done_m, "completed")) if state == "completed" else {}
        with col:
            ui.metric(label, _("{n} of {total}").format(n=t.number(n), total=t.number(total)), help=plan_help,
                      height="stretch", **extra)
    state_labels = {s: _(plan.STATE_LABELS[s]) for s in plan.STATES}
    pillar_labels = {p: t.label(PILLAR_LABELS, p) for p in PILLARS}
    counts = ctx.query(plan.state_counts)
    ctx.chart(plan_charts.state_bars, counts, "key", _("Pillar"), _("Activities"), _("Status"), state_labels,
              key_labels=pillar_labels, key_order=list(PILLARS))

# ---------------------------------------------------------------- slowest hand-offs
st.subheader(_("The three slowest hand-offs"))
st.caption(_("Organisation pairs with at least {k} referrals decided in the period, by median days from sending "
             "to decision, against the previous period of equal length.").format(k=k))
if ranking.empty:
    ui.empty_notice(t, _("No pair of organisations had {k} or more referrals decided in the period.").format(k=k))
else:
    pairs = tuple(zip(ranking["from_org"], ranking["to_org"]))
    trend = ctx.protect(ctx.query(summary.handoffs_per_month, pairs), counts=["n"], stats={"median": "n"})
    cols = st.columns(len(ranking))
    for col, row in zip(cols, ranking.to_dict("records")):
        part = trend[(trend["from_org"] == row["from_org"]) & (trend["to_org"] == row["to_org"])] \
            if not trend.empty else trend
        with col.container(border=True, height="stretch"):
            st.markdown(_("**{sender}** → **{receiver}**").format(sender=escape(row["from_name"]),
                                                                   receiver=escape(row["to_name"])))
            st.metric(_("Median days to decision"), shown(row["median"], "days"),
                      **change(row["median"], row["previous_median"], "days", "inverse", row["previous_n"]),
                      **spark(summary_charts.sparkline_values(part, "median")))
            st.caption(_("Decisions in the period: {n} · overdue today: {overdue}").format(
                n=shown(row["n"], "count"), overdue=shown(row["overdue"], "count")))

# ---------------------------------------------------------------- in plain words
st.subheader(_("In plain words"))
sentences = narrative.sentences(t, k, **narrative.headline_figures(head), plan=narrative.plan_status(pillars),
                                handoffs=narrative.handoffs(ranking))
st.markdown("\n".join(f"- {escape(s)}" for s in sentences))

# ---------------------------------------------------------------- meeting pack
st.subheader(_("Meeting pack"))
st.caption(_("One document for the meeting room, in the language of this page: the filters on a cover, these "
             "figures, then the main chart and table of the case flow, bottleneck, shelter and action plan pages, "
             "with the same protection of small counts as the screen. The spreadsheet holds the same tables."))
agenda = False
if viewer.case_level:
    agenda = st.checkbox(_("Append the case review agenda (by pseudonymous case code)"), key="summary_pack_agenda",
                         help=_("The cases needing attention today, for the committee's meeting. The export is "
                                "recorded in the audit log."))

ref = ui.reference_data(ctx.settings.database_url)
country_code = ref.get("country") or ""


@st.cache_data(ttl=ctx.settings.cache_ttl, show_spinner=False)
def country_name(code: str, lang: str) -> str:
    from dashboard.profiles import ProfileError, load_profile

    try:
        return load_profile(code).name.get(lang) if code else ""
    except (ProfileError, OSError):
        return code.title()


@st.cache_data(ttl=ctx.settings.cache_ttl, show_spinner=False, max_entries=32)
def build_pack(url: str, key: str, _filters, _viewer, lang: str, k: int, agenda: bool, country: str, demo: bool):
    """The pack for (filters, viewer, language, agenda): cached, so repeated clicks are instant."""
    with ui.engine_for(url).connect() as conn:
        context = packs.Context(viewer=_viewer, k=k, t=translator(lang), country=country,
                                region_names=packs.region_names(conn), demo=demo, extracted_at=audit.now(),
                                agenda=agenda)
        return packs.collect(conn, _filters, context)


@st.cache_data(ttl=ctx.settings.cache_ttl, show_spinner=False, max_entries=32)
def build_file(url: str, key: str, _filters, _viewer, lang: str, k: int, agenda: bool, country: str, demo: bool,
               fmt: str) -> tuple[bytes, int]:
    pack = build_pack(url, key, _filters, _viewer, lang, k, agenda, country, demo)
    data = packs.pdf(pack, translator(lang)) if fmt == "pdf" else xlsx.workbook(pack)
    return data, pack.rows


url = ctx.settings.database_url
engine = ui.engine()
country = country_name(country_code, ctx.lang)
cache_key = repr((f, viewer, ctx.lang, k, agenda))
base_name = f"meeting-pack-{country_code or 'nrm'}-{f.start:%Y%m%d}-{f.end:%Y%m%d}-{ctx.lang}"


def download(fmt: str):
    """Called when a download button is clicked (on its own thread): build (or reuse) the
    file, write the export to the audit log, hand the bytes over."""
    def make() -> bytes:
        data, rows = build_file(url, cache_key, f, viewer, ctx.lang, k, agenda, country, bool(ref.get("demo")), fmt)
        audit.record_now(engine, viewer.username, "export", target="summary", filters=f,
                         detail={"what": "meeting_pack", "format": fmt, "rows": rows, "lang": ctx.lang,
                                 "case_review_agenda": agenda})
        return data
    return make


c1, c2 = st.columns(2)
with c1:
    st.download_button(_("Meeting pack (PDF)"), data=download("pdf"), file_name=f"{base_name}.pdf",
                       mime="application/pdf", key="summary_pack_pdf", on_click="ignore", type="primary",
                       icon=":material/picture_as_pdf:", width="stretch",
                       help=_("Prepared when you click (a few seconds the first time); every export is recorded "
                              "in the audit log."))
with c2:
    st.download_button(_("Tables (XLSX)"), data=download("xlsx"), file_name=f"{base_name}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="summary_pack_xlsx", on_click="ignore", icon=":material/table_view:", width="stretch",
                       help=_("The pack's tables, one sheet each, with the same protection of small counts."))
