"""The meeting pack: the summary and the main chart and table of each page, in one PDF.

:func:`collect` runs the topic modules' queries (never re-implemented here) for the
filters, protects every table for the viewer exactly as the screens do
(``privacy.protect``; the case review agenda only through its ``@case_level`` function, and
only for committee members and administrators who ask for it), translates headers and codes,
and returns a :class:`Pack`: plain data that :func:`pdf` (here) and
``dashboard.export.xlsx.workbook`` both render, so the PDF and the XLSX hold the same tables.

Why fpdf2: pure Python on PyPI, no browser and no system library; TrueType fonts with
subsetting (the bundled DejaVu Sans covers French accents, ≤, –, ’, … and narrow no-break
spaces, which the PDF core fonts lack); ``pdf.table()`` splits long tables across pages and
repeats their headings; ``{nb}`` gives "page n of N". Charts become PNG images with
vl-convert (``dashboard.export.images``). No streamlit here.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace
from PIL import Image

from dashboard import charts, narrative, privacy, schema
from dashboard.charts import flow as flow_charts
from dashboard.charts import plan as plan_charts
from dashboard.charts import shelters as shelter_charts
from dashboard.charts import summary as summary_charts
from dashboard.domain import (EXPLOITATION_LABELS, N_, PILLAR_LABELS, PILLARS, ROLE_LABELS, SEX_LABELS,
                              STAGE_LABELS)
from dashboard.export import images
from dashboard.filters import Filters
from dashboard.i18n import Translator
from dashboard.privacy import Viewer
from dashboard.queries import bottlenecks, flow, plan, review, shelters, summary

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
RANKING_ROWS = 25  # hand-offs listed in the bottleneck section
CHART_PX = 560  # chart width in CSS pixels, printed 180 mm wide (labels about 9 pt)

# Cell kinds: how a value is written (PDF) and typed (XLSX). COUNT is a count of people (cases,
# referrals, stays): protected for aggregate-only viewers; INTEGER is any other whole number
# (plan activities, nights, beds, days late), which says nothing about a person.
TEXT, COUNT, INTEGER, PERCENT, DAYS, DATE, NUMBER = "text", "count", "integer", "percent", "days", "date", "number"


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class Column:
    key: str
    label: str  # translated
    kind: str = TEXT
    weight: float | None = None  # relative width in the PDF (None: from the content)


@dataclass
class Table:
    key: str  # stable id (XLSX sheet order, tests)
    title: str  # translated
    columns: list[Column]
    df: pd.DataFrame  # already protected for the viewer; codes already translated
    note: str = ""  # how it is computed
    kinds: list[str] | None = None  # per-row kind for a column of kind "row" (the headline table)
    pt: float | None = None  # font size in the PDF (None: TABLE_PT, smaller if the columns do not fit)

    @property
    def rows(self) -> int:
        return len(self.df)


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    paragraphs: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    empty: str = ""  # shown instead of images and tables when the selection is empty
    landscape: bool = False  # wide tables (the case review agenda)


@dataclass
class Pack:
    lang: str
    title: str
    subtitle: str
    cover: list[tuple[str, str]]  # (label, value) lines: period, filters, extraction, viewer
    notices: list[str]  # privacy and demo notices, translated
    demo: bool
    sections: list[Section]
    header: str
    footer: str
    page_label: str  # "Page {page} of {pages}", translated
    contents: str  # "Contents", translated
    k: int

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables())


# ---------------------------------------------------------------- formatting
def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(t: Translator, value, kind: str) -> str:
    """A cell as written in the PDF: hidden counts as they are ("< 5"), missing as "—"."""
    if isinstance(value, str):
        return value
    if is_missing(value):
        return "—"
    if kind in (COUNT, INTEGER):
        return t.number(int(value))
    if kind == PERCENT:
        return t.percent(float(value))
    if kind == DAYS:
        return narrative.days_number(t, value)
    if kind == NUMBER:
        return t.number(float(value), 1)
    if kind == DATE:
        return t.date(value if isinstance(value, date) else date.fromisoformat(str(value)))
    return str(value)


def filter_lines(t: Translator, f: Filters, region_names: dict[str, str]) -> list[tuple[str, str]]:
    """The filters in words, for the cover."""
    _ = t.gettext
    prev = f.previous()
    codes = f.effective_regions()
    if codes is None:
        regions = _("All regions")
    elif not codes:
        regions = _("None")
    else:
        regions = ", ".join(region_names.get(code, code) for code in codes)
    sex = ", ".join(t.label(SEX_LABELS, s) for s in f.sex) or _("All")
    age = {None: _("All ages"), "minor": _("Minors"), "adult": _("Adults")}[f.age_group]
    exploitation = ", ".join(t.label(EXPLOITATION_LABELS, e) for e in f.exploitation) or _("All forms")
    return [
        (_("Period"), t.period(f.start, f.end)),
        (_("Compared with"), t.period(prev.start, prev.end)),
        (_("Regions"), regions),
        (_("Sex"), sex),
        (_("Age group"), age),
        (_("Exploitation"), exploitation),
    ]


def _num(value):
    """A protected cell as a number for arithmetic, or None (hidden or missing)."""
    if isinstance(value, str) or is_missing(value):
        return None
    return float(value)


# ---------------------------------------------------------------- collecting the figures
@dataclass(frozen=True)
class Context:
    """What :func:`collect` needs besides the connection and the filters."""

    viewer: Viewer
    k: int
    t: Translator
    country: str
    region_names: dict
    demo: bool
    extracted_at: datetime
    agenda: bool = False  # committee / admin: append the case review agenda
    charts: bool = True  # False: tables and sentences only (no chart images; faster, for tests)


def _png(ctx: Context, chart, width: int = 0) -> list[bytes]:
    """The chart as a PNG (a list of one), or none when the context asks for no charts."""
    if not ctx.charts:
        return []
    return [images.png(chart, ctx.t.lang, width=width or CHART_PX)]


def _protect(ctx: Context, df: pd.DataFrame, counts=(), stats=None) -> pd.DataFrame:
    return privacy.protect(df, ctx.viewer, ctx.k, counts=counts, stats=stats)


def _summary_section(conn, f: Filters, ctx: Context) -> Section:
    t = ctx.t
    _ = t.gettext
    head = _protect(ctx, summary.headline(conn, f), summary.HEADLINE_COUNTS, summary.HEADLINE_STATS).iloc[0].to_dict()
    pillars = plan.pillar_summary(conn, f)
    # the three slowest pairs with at least k decisions, for every role: fewer is noise (and an
    # aggregate-only viewer would see the top rows withheld); the same as the summary page
    ranking = _protect(ctx, summary.slowest_handoffs(conn, f, min_n=ctx.k), bottlenecks.RANKING_COUNTS,
                       bottlenecks.RANKING_STATS)
    figs = narrative.headline_figures(head)
    sentences = narrative.sentences(t, ctx.k, **figs, plan=narrative.plan_status(pillars),
                                    handoffs=narrative.handoffs(ranking))

    labels = {
        "victims": (_("Victims identified"), COUNT),
        "women_girls": (_("Women and girls"), COUNT),
        "minors": (_("Minors"), COUNT),
        "within_target": (_("Referrals decided within target"), PERCENT),
        "first_assist": (_("Median days from identification to first assistance"), DAYS),
        "utilisation": (_("Shelter bed utilisation"), PERCENT),
    }
    rows, kinds = [], []
    for key, (label, kind) in labels.items():
        rows.append({"figure": label, "value": head[key], "previous": head[f"{key}_prev"]})
        kinds.append(kind)
    headline_table = Table(
        "headline", _("Headline figures"),
        [Column("figure", _("Figure"), TEXT, 3.2), Column("value", _("This period"), "row", 1.2),
         Column("previous", _("Previous period"), "row", 1.2)],
        pd.DataFrame(rows), kinds=kinds,
        note=_("Victims: cases identified in the period, not counting those assessed as not a victim. "
               "Within target: referrals decided in the period within the target days of the receiving "
               "organisation type or service. First assistance: first service start − identification date. "
               "Utilisation: bed-nights used ÷ beds × nights."))

    pillar_table = Table(
        "plan_pillars", _("Action plan activities by pillar"),
        [Column("pillar", _("Pillar"), TEXT, 2), Column("total", _("Activities"), INTEGER),
         Column("completed", _("Completed"), INTEGER), Column("on_track", _("On track"), INTEGER),
         Column("delayed", _("Delayed"), INTEGER), Column("not_started", _("Not started"), INTEGER),
         Column("cancelled", _("Cancelled"), INTEGER)],
        pillars.assign(pillar=[t.label(PILLAR_LABELS, p) for p in pillars["pillar"]]),
        note=_("As of today. Delayed: due date passed and not completed or cancelled; on track: started and not yet due."))

    handoff_table = Table(
        "slowest_handoffs", _("The three slowest hand-offs"),
        [Column("from_name", _("From"), TEXT, 3), Column("to_name", _("To"), TEXT, 3),
         Column("n", _("Decisions"), COUNT), Column("median", _("Median"), DAYS),
         Column("previous_median", _("Before"), DAYS), Column("overdue", _("Overdue"), COUNT)],
        ranking,
        note=_("Organisation pairs with at least {k} referrals decided in the period, by median days from "
               "sending to decision; before: the median of the previous period; overdue: referrals of the pair "
               "with no decision and past their target today.").format(k=ctx.k))

    trends = [p for p in _trend_panels(conn, f, ctx) if summary_charts.sparkline_values(p["df"], p["column"])]
    image = _png(ctx, summary_charts.trend_grid(trends), width=170) if trends else []  # never an empty chart
    return Section("summary", _("Summary"), intro=_("Figures for {period}, compared with {previous}.").format(
        period=t.period(f.start, f.end), previous=t.period(f.previous().start, f.previous().end)),
        paragraphs=sentences, images=image, tables=[headline_table, pillar_table, handoff_table])


def _trend_panels(conn, f: Filters, ctx: Context) -> list[dict]:
    _ = ctx.t.gettext
    victims = _protect(ctx, summary.victims_per_month(conn, f), counts=list(summary.VICTIM_COUNTS))
    within = _protect(ctx, summary.within_target_per_month(conn, f), counts=["decided", "within_target"],
                      stats={"share": "decided"})
    first = _protect(ctx, summary.first_assistance_per_month(conn, f), counts=["n"], stats={"median": "n", "p90": "n"})
    util = _protect(ctx, summary.utilisation_per_month(conn, f), counts=["people"], stats={"utilisation": "people"})
    return [
        {"df": victims, "column": "total", "title": _("Victims identified"), "kind": summary_charts.COUNT},
        {"df": victims, "column": "women_girls", "title": _("Women and girls"), "kind": summary_charts.COUNT},
        {"df": victims, "column": "minors", "title": _("Minors"), "kind": summary_charts.COUNT},
        {"df": within, "column": "share", "title": _("Decided within target"), "kind": summary_charts.PERCENT},
        {"df": first, "column": "median", "title": _("Days to first assistance (median)"), "kind": summary_charts.DAYS},
        {"df": util, "column": "utilisation", "title": _("Bed utilisation"), "kind": summary_charts.PERCENT},
    ]


def _flow_section(conn, f: Filters, ctx: Context) -> Section:
    """As the case flow page: the cohort funnel (its chart), counts and conversion protected
    the same way; where a case went no further only for committee members and administrators."""
    t = ctx.t
    _ = t.gettext
    title = _("Case flow")
    df = flow.funnel(conn, f)
    if df.empty:
        return Section("flow", title, empty=_("No case was identified in the period."))
    shown = _protect(ctx, df, counts=["reached", "base", "stopped_open", "stopped_closed"], stats={"conversion": "base"})
    shown = shown.assign(label=[t.label(STAGE_LABELS, s) for s in shown["stage"]],
                         kind=["closed" if s == "closed" else "progress" for s in shown["stage"]])
    texts = []
    for row in shown.to_dict("records"):
        reached, share = cell_text(t, row["reached"], COUNT), cell_text(t, row["conversion"], PERCENT)
        if row["stage"] == "identification":
            texts.append(_("{n} (cohort)").format(n=reached))
        elif row["stage"] == "closed":
            texts.append(_("{n} · {share} of the cohort").format(n=reached, share=share))
        else:
            texts.append(f"{reached} · {share}")
    chart = flow_charts.funnel(shown.assign(text=texts), _("Cases"), {"label": _("Stage")})
    columns = [Column("label", _("Stage"), TEXT, 3), Column("reached", _("Cases that reached it"), COUNT),
               Column("conversion", _("Conversion"), PERCENT)]
    if ctx.viewer.case_level:
        columns += [Column("stopped_open", _("Went no further, still open"), COUNT),
                    Column("stopped_closed", _("Went no further, closed"), COUNT)]
    table = Table(
        "funnel", _("Cohort funnel through the referral chain"), columns, shown,
        note=_("Cases identified in the period and the furthest stage each has reached by today. "
               "Conversion A → B = cases that reached B ÷ cases that reached A; “Case closed” counts the cases "
               "closed by today from any stage, as a share of the cohort."))
    return Section("flow", title, images=_png(ctx, chart, CHART_PX - 120), tables=[table])


def _bottleneck_section(conn, f: Filters, ctx: Context) -> Section:
    t = ctx.t
    _ = t.gettext
    title = _("Bottlenecks")
    min_n = ctx.k if ctx.viewer.aggregate_only else 1
    ranking = bottlenecks.ranking(conn, f, limit=None, min_n=min_n)
    if ranking.empty:
        return Section("bottlenecks", title, empty=_("No referral was decided in the period."))
    pairs = len(ranking)
    shown = _protect(ctx, ranking.head(RANKING_ROWS), bottlenecks.RANKING_COUNTS, bottlenecks.RANKING_STATS)
    shown = shown.assign(pair=[f"{a} → {b}" for a, b in zip(shown["from_org"], shown["to_org"])])
    top = shown.head(12)
    chart = charts.bar(top, "pair", "median", _("From → to (organisation codes)"), _("Median days to decision"),
                       horizontal=True, sort=None, height=max(120, 22 * len(top)))
    table = Table(
        "ranking", _("Hand-offs by median days to decision"),
        [Column("from_name", _("From"), TEXT, 3.2), Column("to_name", _("To"), TEXT, 3.2),
         Column("n", _("Decisions"), COUNT), Column("median", _("Median"), DAYS), Column("p90", _("P90"), DAYS),
         Column("previous_median", _("Before"), DAYS), Column("overdue", _("Overdue"), COUNT)],
        shown,
        note=_("The {shown} slowest of {pairs} organisation pairs with at least {n} referrals decided in the period, "
               "by median and 90th percentile (P90) of the days from sending to decision; before: the median of the "
               "previous period; overdue: referrals with no decision and past their target today (ties broken by "
               "them).").format(
            shown=t.number(min(pairs, RANKING_ROWS)), pairs=t.number(pairs), n=min_n))
    return Section("bottlenecks", title, images=_png(ctx, chart), tables=[table])


def _shelter_section(conn, f: Filters, ctx: Context) -> Section:
    """As the shelters page's table per shelter over the period, protected the same way
    (people and bed-nights used hidden below k, utilisation withheld, secondary suppression
    of bed-nights across shelters)."""
    t = ctx.t
    _ = t.gettext
    title = _("Shelters")
    df = shelters.utilisation(conn, f)
    if df.empty:
        return Section("shelters", title, empty=_("No shelter in the selection, or no night of the period is over yet."))
    shown = _protect(ctx, df, counts=["bed_nights_used", "people"], stats={"utilisation": "people"})
    shown = shelters.secondary_suppress(shown, ["bed_nights_used"], axis="rows")
    chart_df = shown.assign(pct=[None if _num(u) is None else 100 * float(u) for u in shown["utilisation"]])
    chart = shelter_charts.horizontal_bars(chart_df, "shelter", "pct", _("Shelter"), _("Bed utilisation (%)"),
                                           integer=False)
    columns = [Column("shelter", _("Shelter"), TEXT, 3.5), Column("region", _("Region"), TEXT, 1.6),
               Column("utilisation", _("Bed utilisation"), PERCENT), Column("bed_nights_used", _("Bed-nights used"), COUNT),
               Column("bed_nights_available", _("Bed-nights available"), INTEGER),
               Column("nights_over_capacity", _("Nights over capacity"), INTEGER)]
    if int(pd.to_numeric(df["nights_without_capacity"]).sum()):
        columns.append(Column("nights_without_capacity", _("Nights without capacity"), INTEGER))
    table = Table(
        "utilisation", _("Bed utilisation per shelter over the period"), columns, shown,
        note=_("Bed-nights used ÷ bed-nights available over the nights of the period (capacity is dated; nights "
               "without recorded capacity are left out of both)."))
    shown_any = chart_df["pct"].notna().any()
    return Section("shelters", title, images=_png(ctx, chart) if shown_any else [], tables=[table])


def _plan_section(conn, f: Filters, ctx: Context) -> Section:
    t = ctx.t
    _ = t.gettext
    title = _("Action plan")
    counts = plan.state_counts(conn, f)
    if counts.empty:
        return Section("plan", title, empty=_("No action plan activity is in the selection."))
    state_labels = {s: _(plan.STATE_LABELS[s]) for s in plan.STATES}
    pillar_labels = {p: t.label(PILLAR_LABELS, p) for p in PILLARS}
    chart = plan_charts.state_bars(counts, "key", _("Pillar"), _("Activities"), _("Status"), state_labels,
                                   key_labels=pillar_labels, key_order=list(PILLARS))
    late = plan.delayed_activities(conn, f, lang=t.lang)
    late = late.assign(pillar=[pillar_labels.get(p, p) for p in late["pillar"]],
                       region=[r if isinstance(r, str) else _("National") for r in late["region"]])
    table = Table(
        "delayed_activities", _("Delayed activities"),
        [Column("code", _("Code"), TEXT, 1.3), Column("title", _("Activity"), TEXT, 5), Column("pillar", _("Pillar"), TEXT, 1.5),
         Column("lead", _("Lead organisation"), TEXT, 3), Column("planned_end", _("Due date"), DATE, 1.5),
         Column("days_late", _("Days late"), INTEGER, 1.1)],
        late,
        note=_("Due date passed and not completed or cancelled; days late = today − due date."))
    return Section("plan", title, images=_png(ctx, chart), tables=[table])


AGENDA_ROWS = 50  # most urgent cases listed in the committee's version (the case review page has them all)


def review_thresholds(conn):
    """The country profile's review thresholds (None when the database names no readable profile)."""
    from dashboard.profiles import ProfileError, load_profile
    from dashboard.reference import profile_of

    name = profile_of(conn)
    if not name:
        return None
    try:
        return load_profile(name).review
    except (ProfileError, OSError):
        return None


def _agenda_section(conn, f: Filters, ctx: Context) -> Section:
    """Committee members and administrators only: the case review agenda by pseudonymous
    code, through the ``@case_level`` functions of ``queries.review`` (which refuse any
    other role, and filters wider than the viewer's regions)."""
    t = ctx.t
    _ = t.gettext
    title = _("Case review agenda")
    thresholds = review_thresholds(conn)
    if thresholds is None:
        return Section("agenda", title, empty=_("No country profile is loaded: the review thresholds are unknown."))
    everything = review.agenda(conn, f, ctx.viewer, thresholds, limit=None)  # one query: the rows and their number
    if everything.empty:
        return Section("agenda", title, empty=_("No case needs attention today."))
    total, rows = len(everything), everything.head(AGENDA_ROWS).reset_index(drop=True)
    why = []
    for rec in rows.to_dict("records"):
        parts = []
        for reason in review.REASONS:
            days = rec.get(f"{reason}_days")
            if not is_missing(days):
                parts.append(_("{reason}: {days} days past").format(reason=_(review.REASON_LABELS[reason]),
                                                                     days=t.number(int(days))))
        if not is_missing(rec.get("waiting_on_name")):
            parts.append(_("waiting on {organisation}").format(organisation=rec["waiting_on_name"]))
        why.append("; ".join(parts))
    shown = rows.assign(
        sex_age=[f"{t.label(SEX_LABELS, s)}, {a}" for s, a in zip(rows["sex"], rows["age_band"])],
        current_stage=[t.label(STAGE_LABELS, s) for s in rows["current_stage"]],
        why=why,
    )
    table = Table(
        "agenda", _("Cases needing attention today"),
        [Column("case_code", _("Case"), TEXT, 1.2), Column("region_name", _("Region"), TEXT, 1.2),
         Column("sex_age", _("Sex, age"), TEXT, 1.2),
         Column("current_stage", _("Stage"), TEXT, 1.6), Column("holder_name", _("Held by"), TEXT, 2.2),
         Column("days_past", _("Days past"), INTEGER), Column("why", _("Why"), TEXT, 3.6)],
        shown,
        note=_("The {shown} most urgent of {total} cases, by days past the review threshold. Pseudonymous case codes "
               "only: this page is for the committee.").format(shown=t.number(len(rows)), total=t.number(total)))
    return Section("agenda", title, tables=[table], landscape=True)


def collect(conn, f: Filters, ctx: Context) -> Pack:
    """Every figure and table of the pack, protected for ``ctx.viewer``. An aggregate-only
    viewer's filters go through ``privacy.aggregate_filters`` first, as every screen query
    does (``ui.PageContext.query``): all regions of their scope, whole months."""
    f = privacy.aggregate_filters(f, ctx.viewer)
    t = ctx.t
    _ = t.gettext
    sections = [
        _summary_section(conn, f, ctx),
        _flow_section(conn, f, ctx),
        _bottleneck_section(conn, f, ctx),
        _shelter_section(conn, f, ctx),
        _plan_section(conn, f, ctx),
    ]
    if ctx.agenda and ctx.viewer.case_level:
        sections.append(_agenda_section(conn, f, ctx))
    notices = []
    if ctx.demo:
        notices.append(_("Demo data: every case here is invented. Do not use these figures."))
    if ctx.viewer.aggregate_only:
        notices.append(_("Aggregate figures: counts from 1 to {k1} are shown as “< {k}”, and medians or shares over "
                         "fewer than {k} cases are withheld, to protect survivors.").format(k=ctx.k, k1=ctx.k - 1))
    else:
        notices.append(_("Committee version: small counts are shown. Keep this document within the committee."))
    extracted = f"{t.date(ctx.extracted_at.date())} {ctx.extracted_at:%H:%M} UTC"
    cover = filter_lines(t, f, ctx.region_names) + [
        (_("Extracted on"), extracted),
        (_("Extracted by"), f"{ctx.viewer.display_name or ctx.viewer.username} ({t.gettext(ROLE_LABELS[ctx.viewer.role])})"),
    ]
    return Pack(
        lang=t.lang,
        title=_("Meeting pack"),
        subtitle=_("National Referral Mechanism — {country}").format(country=ctx.country),
        cover=cover,
        notices=notices,
        demo=ctx.demo,
        sections=sections,
        header=_("Meeting pack · {country} · {period}").format(country=ctx.country, period=t.period(f.start, f.end)),
        footer=_("Demo data — invented cases") if ctx.demo else _("Extracted on {date}").format(date=extracted),
        page_label=_("Page {page} of {pages}"),
        contents=_("Contents"),
        k=ctx.k,
    )


def region_names(conn) -> dict[str, str]:
    return dict(conn.execute(sa.select(schema.regions.c.code, schema.regions.c.name)).all())


# ---------------------------------------------------------------- the PDF
INK, GREY, LIGHT, ACCENT, RED = (33, 33, 33), (110, 110, 110), (242, 244, 247), (31, 95, 139), (176, 42, 42)
HEAD_FILL = (222, 232, 241)


class _PackPDF(FPDF):
    def __init__(self, pack: Pack):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.pack = pack
        self.set_margins(15, 16, 15)
        self.set_auto_page_break(True, margin=16)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_title(f"{pack.title} — {pack.subtitle}")
        self.set_creator("NRM dashboard")
        self.set_lang(pack.lang)

    def header(self):
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.set_y(8)
        self.cell(0, 4, self.pack.header, align="L")
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, 12.5, self.w - self.r_margin, 12.5)
        self.set_y(16)
        self.set_text_color(*INK)

    def footer(self):
        self.set_y(-11)
        self.set_font(FONT, "B" if self.pack.demo else "", 7.5)
        self.set_text_color(*(RED if self.pack.demo else GREY))
        self.cell(self.epw / 2, 4, self.pack.footer, align="L")
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(self.epw / 2, 4, self.pack.page_label.format(page=self.page_no(), pages="{nb}"), align="R")
        self.set_text_color(*INK)

    @property
    def space_left(self) -> float:
        return self.h - self.b_margin - self.get_y()


def _cover(pdf: _PackPDF, pack: Pack) -> None:
    pdf.add_page()
    pdf.set_y(40)
    pdf.set_font(FONT, "B", 26)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 12, pack.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 14)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 8, pack.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 40, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.ln(8)
    label_w = 45
    for label, value in pack.cover:
        pdf.set_font(FONT, "B", 10.5)
        y = pdf.get_y()
        pdf.multi_cell(label_w, 6.5, label, new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "", 10.5)
        pdf.multi_cell(pdf.epw - label_w, 6.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 6.5) + 1)
    pdf.ln(6)
    for notice in pack.notices:
        demo = pack.demo and notice == pack.notices[0]
        pdf.set_font(FONT, "B" if demo else "", 10)
        pdf.set_text_color(*(RED if demo else INK))
        pdf.set_fill_color(*((251, 233, 233) if demo else LIGHT))
        pdf.multi_cell(0, 6, notice, fill=True, padding=3, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.set_text_color(*INK)
    pdf.ln(4)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, pack.contents, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10.5)
    for i, section in enumerate(pack.sections, start=1):
        pdf.cell(0, 6.5, f"{i}. {section.title}", new_x="LMARGIN", new_y="NEXT")


MM_PER_PX = 0.255  # printed size of one CSS pixel of a chart: same text size on every chart (~9 pt labels)


def _image(pdf: _PackPDF, png: bytes, scale: float = images.SCALE, max_h: float = 160) -> None:
    w_px, h_px = Image.open(io.BytesIO(png)).size
    w = min(w_px / scale * MM_PER_PX, pdf.epw)
    h = w * h_px / w_px
    if h > max_h:
        h = max_h
        w = h * w_px / h_px
    if pdf.space_left < h + 2:
        pdf.add_page(same=True)
    x = pdf.l_margin + (pdf.epw - w) / 2
    pdf.image(io.BytesIO(png), x=x, y=pdf.get_y(), w=w, h=h)
    pdf.set_y(pdf.get_y() + h + 3)


TABLE_PT = 8.5
CELL_PAD = 5.6  # mm: left + right padding (1.5 each) and fpdf2's cell margins (1 each), plus a little air
TEXT_MAX = 70  # mm: a text column wider than this wraps
NUMBER_HEAD_MAX = 30  # mm: widest a number column grows to keep its header on one line


def column_widths(pdf: FPDF, table: Table, texts: list[list[str]], pt: float = TABLE_PT) -> tuple[list[float], bool]:
    """Column widths (mm) filling the page width. No header or cell word is ever split and
    numbers never wrap; headers of number columns get their full width when there is room
    (up to NUMBER_HEAD_MAX), and text columns share what is left, wrapping long cells.
    Returns (widths, fits): ``fits`` is False when even the narrowest columns are too wide
    at this font size ``pt`` (the widths are then scaled down and long words would break)."""
    sample = texts[:300]
    mins, wants, is_text = [], [], []
    for j, col in enumerate(table.columns):
        pdf.set_font(FONT, "B", pt)
        head_word = max((pdf.get_string_width(w) for w in col.label.split()), default=5)
        head_full = pdf.get_string_width(col.label)
        pdf.set_font(FONT, "", pt)
        cells = [r[j] for r in sample]
        cell_word = max((pdf.get_string_width(w) for text in cells for w in text.split()), default=5)
        full = sorted(pdf.get_string_width(text) for text in cells) or [5]
        low = max(head_word, cell_word) + CELL_PAD
        if col.kind == TEXT:
            typical = full[int(0.9 * (len(full) - 1))]
            mins.append(low)
            wants.append(max(low, min(max(typical, head_full) + CELL_PAD, TEXT_MAX)))
            is_text.append(True)
        else:
            low = max(low, full[-1] + CELL_PAD)
            mins.append(low)
            wants.append(max(low, min(head_full + CELL_PAD, NUMBER_HEAD_MAX)))
            is_text.append(False)
    room, total = pdf.epw, sum(wants)
    if total <= room:
        grow = [w if text else 0 for w, text in zip(wants, is_text)]
        grow = grow if sum(grow) else wants
        return [w + (room - total) * g / sum(grow) for w, g in zip(wants, grow)], True
    if sum(mins) > room:
        return [m * room / sum(mins) for m in mins], False  # too many columns even at their narrowest
    # number headers give way first (down to their widest number or word), then text columns
    # share the room "water-filling": short ones keep their width, long ones get the same
    # width each (times their weight), never below their longest word
    numbers = [j for j, text in enumerate(is_text) if not text]
    texts_j = [j for j, text in enumerate(is_text) if text]
    out = list(wants)
    text_room = room - sum(mins[j] for j in numbers)
    if sum(wants[j] for j in texts_j) <= text_room:
        spare = room - sum(wants[j] for j in texts_j) - sum(mins[j] for j in numbers)
        slack = sum(wants[j] - mins[j] for j in numbers)
        for j in numbers:
            out[j] = mins[j] + (spare * (wants[j] - mins[j]) / slack if slack else 0)
        return out, True
    for j in numbers:
        out[j] = mins[j]
    weight = {j: (table.columns[j].weight or 1) for j in texts_j}

    def fill(level: float) -> list[float]:
        return [min(wants[j], max(mins[j], level * weight[j])) for j in texts_j]

    lo, hi = 0.0, max(wants)
    for _step in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(fill(mid)) <= text_room else (lo, mid)
    for j, w in zip(texts_j, fill(lo)):
        out[j] = w
    left = room - sum(out)
    if left > 0 and texts_j:
        for j in texts_j:
            out[j] += left / len(texts_j)
    return out, True


def _table(pdf: _PackPDF, pack: Pack, t: Translator, table: Table) -> None:
    if pdf.space_left < 35:
        pdf.add_page(same=True)
    pdf.set_font(FONT, "B", 10.5)
    pdf.multi_cell(0, 6, table.title, new_x="LMARGIN", new_y="NEXT")
    if table.note:
        pdf.set_font(FONT, "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 3.6, table.note, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)
    pdf.ln(1.5)
    if table.df.empty:
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, t.gettext(N_("Nothing in this selection.")), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        return
    texts = []
    for i, rec in enumerate(table.df.to_dict("records")):
        row = []
        for col in table.columns:
            kind = table.kinds[i] if col.kind == "row" and table.kinds else col.kind
            row.append(cell_text(t, rec.get(col.key), kind))
        texts.append(row)
    numeric = [col.kind not in (TEXT,) for col in table.columns]
    start = table.pt or TABLE_PT
    for pt in (start, start - 0.5, start - 1, start - 1.5):  # a wide table takes a smaller font
        widths, fits = column_widths(pdf, table, texts, pt)
        if fits:
            break
    pdf.set_font(FONT, "", pt)
    with pdf.table(
        col_widths=widths,
        text_align=tuple("RIGHT" if n else "LEFT" for n in numeric),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL, size_pt=pt),
        cell_fill_color=LIGHT,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        line_height=pt * 0.52,
        padding=(1.2, 1.5, 1.2, 1.5),
        borders_layout="HORIZONTAL_LINES",
        repeat_headings=1,
        width=pdf.epw,
    ) as tbl:
        head = tbl.row()
        for col, n in zip(table.columns, numeric):
            head.cell(col.label, align="RIGHT" if n else "LEFT")
        for row in texts:
            r = tbl.row()
            for text in row:
                r.cell(text)
    pdf.ln(5)


def _section(pdf: _PackPDF, pack: Pack, t: Translator, section: Section, number: int) -> None:
    pdf.add_page(orientation="L" if section.landscape else "P")
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 9, f"{number}. {section.title}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    if section.intro:
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 5, section.intro, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)
    pdf.ln(3)
    if section.empty:
        pdf.set_font(FONT, "", 10.5)
        pdf.multi_cell(0, 6, section.empty, new_x="LMARGIN", new_y="NEXT")
        return
    tables = list(section.tables)
    if section.key == "summary" and tables:
        _table(pdf, pack, t, tables.pop(0))  # the headline figures, then their trend lines, then in words
        for png in section.images:
            _image(pdf, png)
        _paragraphs(pdf, section.paragraphs)
    else:
        _paragraphs(pdf, section.paragraphs)
        for png in section.images:
            _image(pdf, png)
    for table in tables:
        _table(pdf, pack, t, table)


def _paragraphs(pdf: _PackPDF, sentences: list[str]) -> None:
    if not sentences:
        return
    pdf.set_font(FONT, "", 10.5)
    for sentence in sentences:
        pdf.set_x(pdf.l_margin)
        pdf.cell(5, 5.6, "•")
        pdf.multi_cell(pdf.epw - 5, 5.6, sentence, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(4)


def pdf(pack: Pack, t: Translator) -> bytes:
    """The pack as PDF bytes."""
    doc = _PackPDF(pack)
    _cover(doc, pack)
    for i, section in enumerate(pack.sections, start=1):
        _section(doc, pack, t, section, i)
    return bytes(doc.output())
