"""Home: four live figures for the filters, and identifications per month."""
import streamlit as st

from dashboard import charts, ui
from dashboard.queries import home

ctx = ui.context()
_ = ctx._
st.title(_("National Referral Mechanism"))
st.caption(_("Figures for {period}.").format(period=ctx.t.period(ctx.filters.start, ctx.filters.end)))

figs = ctx.protect(ctx.query(home.figures), counts=["value"]).set_index("figure")["value"]
labels = {
    "cases_identified": (_("Cases identified"), _("Cases whose identification date falls in the period.")),
    "referrals_pending": (_("Referrals pending"), _("Referrals sent by the end of the period with no decision by then.")),
    "beds_occupied_today": (_("Shelter beds occupied today"), _("People in a shelter tonight (entry ≤ today < exit).")),
    "activities_delayed": (_("Plan activities delayed"), _("Due date passed, not completed or cancelled.")),
}
cols = st.columns(4)
for col, (key, (label, help_text)) in zip(cols, labels.items()):
    value = figs[key]
    with col:
        ui.metric(label, value if isinstance(value, str) else ctx.t.number(value), help=help_text)

# months add up to the "cases identified" figure above: secondary suppression too
monthly = ctx.protect_table(ctx.query(home.identified_per_month), ["cases"])
st.subheader(_("Cases identified per month"))
if monthly.empty:
    ui.empty_notice(ctx.t)
else:
    ctx.chart(charts.line, charts.month_dates(monthly), "month", "cases", _("Month"), _("Cases"))
