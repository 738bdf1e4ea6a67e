"""Data import: templates, a check of the file (every problem listed), then an
all-or-nothing import; for administrators, the de-identified CTDC export.

Everything goes through dashboard.ingest.run_import, as the command line does."""
import hashlib

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.ingest import ctdc, kinds, run_import, templates

ctx = ui.context()
_ = ctx._
t = ctx.t
viewer = ctx.viewer
engine = ui.engine()

st.title(_("Data import"))
if not (viewer.role == "admin" or (viewer.role == "committee" and viewer.can_import)):
    st.error(_("Your account may not import data."))
    st.stop()
st.caption(_("Bring in data kept in spreadsheets: pick what the file holds, fill the template (or a HTCDS case "
             "sheet), check the file, then import it. Nothing is written until the whole file is clean, and "
             "importing the same file again changes nothing."))

KIND_LABELS = {name: _(k.label) for name, k in kinds.KINDS.items()}
kind_name = st.selectbox(_("What the file holds"), list(kinds.KINDS), format_func=KIND_LABELS.get, key="import_kind")
kind = kinds.get(kind_name)
st.info(_(kind.description), icon=":material/description:")

# ---------------------------------------------------------------- templates and columns
st.subheader(_("Template"))


def _template_data(fmt: str):
    lang = ctx.lang

    def build() -> bytes:
        with engine.connect() as conn:
            return templates.template(kind_name, lang, fmt, conn)
    return build


left, right, _spacer = st.columns([1, 1, 2])
with left:
    st.download_button(_("Template (Excel, with lists)"), _template_data("xlsx"),
                       file_name=templates.file_name(kind_name, ctx.lang, "xlsx"), icon=":material/table_view:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"import_tpl_xlsx_{kind_name}", on_click="ignore", width="stretch")
with right:
    st.download_button(_("Template (CSV)"), _template_data("csv"), file_name=templates.file_name(kind_name, ctx.lang, "csv"),
                       mime="text/csv", icon=":material/csv:", key=f"import_tpl_csv_{kind_name}", on_click="ignore",
                       width="stretch")
with st.expander(_("Expected columns and codes")):
    with engine.connect() as conn:
        described = pd.DataFrame(templates.describe(kind, ctx.lang, conn))
    described["required"] = described["required"].map({True: _("yes"), False: _("no")})
    described = described.rename(columns={"column": _("Column"), "required": _("Required"),
                                          "expected": _("What it holds")})
    st.table(described.set_index(_("Column")))
    if kind_name == "htcds":
        st.caption(_("Columns are read by their HTCDS field name (row 1); the labels row is skipped. Case workers' "
                     "names and free-text details are not read."))
    else:
        st.caption(_("Headers may be in French or English. Coded columns take the code or its label; dates take "
                     "2024-01-31 or 31/01/2024."))

# ---------------------------------------------------------------- check, then import
st.subheader(_("Check and import a file"))
uploaded = st.file_uploader(_("CSV or Excel (.xlsx) file"), type=["csv", "txt", "xlsx"], key=f"import_file_{kind_name}")

PROBLEM_COLUMNS = {"row": _("Row"), "column": _("Column"), "value": _("Value"), "expected": _("Expected")}


def _progress_bar():
    bar = st.progress(0.0, text=_("Reading the file"))

    def update(label: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=_(label))
    return bar, update


TABLE_LABELS = {
    "cases": _("Cases"), "stage_events": _("Stage events"), "referrals": _("Referrals"), "services": _("Services"),
    "shelter_stays": _("Shelter stays"), "shelter_capacity": _("Shelter capacity"),
    "activity_status_history": _("Activity status history"), "plan_activities": _("Plan activities (status)"),
    "indicator_values": _("Indicator values"),
}
SHOWN_AS_TABLE = 200  # problems shown as a plain table (long texts wrap); more go to a scrolling grid


def _counts_table(report) -> pd.DataFrame:
    rows = [{"table": TABLE_LABELS.get(table, table), "inserted": c.inserted, "updated": c.updated,
             "unchanged": c.unchanged} for table, c in report.counts.items()]
    df = pd.DataFrame(rows, columns=["table", "inserted", "updated", "unchanged"])
    for col in ("inserted", "updated", "unchanged"):
        df[col] = df[col].map(t.number)
    return df


COUNT_COLUMNS = {"table": _("Table"), "inserted": _("New"), "updated": _("Updated"), "unchanged": _("Unchanged")}


def _show_notes(report) -> None:
    for note in report.notes:
        if note.warning:
            st.warning(note.text(t), icon=":material/warning:")
        else:
            st.caption(note.text(t))


if uploaded is None:
    st.caption(_("Pick a file to check it. Checking writes nothing."))
    st.session_state.pop("import_result", None)
    st.session_state.pop("import_check", None)
else:
    data = uploaded.getvalue()
    fingerprint = hashlib.sha256(data).hexdigest() + kind_name
    result = st.session_state.get("import_result")
    if result is not None and result[0] != fingerprint:
        result = None
        st.session_state.pop("import_result", None)
    check = st.session_state.get("import_check")
    if result is None and (check is None or check[0] != fingerprint):
        bar, update = _progress_bar()
        report = run_import(engine, data, kind_name, dry_run=True, actor=viewer.username, progress=update,
                            file_name=uploaded.name, viewer=viewer)
        bar.empty()
        st.session_state["import_check"] = (fingerprint, report)
    report = st.session_state["import_check"][1] if "import_check" in st.session_state else None

    if result is not None:
        done = result[1]
        if done.written:
            st.success(_("Imported: {rows} rows from {file}. Figures on every page now include them.").format(
                rows=t.number(done.rows), file=done.file_name), icon=":material/check_circle:")
            ui.show_dataframe(_counts_table(done), columns=COUNT_COLUMNS)
        else:
            st.error(_("Nothing was written: the database refused the import ({error}).").format(
                error=done.error or "?"), icon=":material/error:")
        _show_notes(done)
    elif report.problems:
        st.error(_("Nothing was written: {n} problems to fix in {file}. Correct the file, then pick it again.").format(
            n=t.number(len(report.problems)), file=report.file_name), icon=":material/error:")
        _show_notes(report)
        problems = pd.DataFrame([p.as_dict(t) for p in report.problems], columns=list(PROBLEM_COLUMNS))
        problems["row"] = problems["row"].map(lambda r: "" if pd.isna(r) else str(int(r)))
        problems = problems.fillna("").rename(columns=PROBLEM_COLUMNS)
        if len(problems) <= SHOWN_AS_TABLE:
            st.table(problems.set_index(PROBLEM_COLUMNS["row"]))
        else:
            ui.show_dataframe(problems, column_config={PROBLEM_COLUMNS["expected"]: st.column_config.TextColumn(
                width="large")})
        st.download_button(_("Download this report (CSV)"), problems.to_csv(index=False).encode("utf-8-sig"),
                           file_name=f"problems-{report.file_name or kind_name}.csv", mime="text/csv",
                           icon=":material/download:", key="import_problems_csv", on_click="ignore")
    elif report.error:
        st.error(_("Nothing was written: the database refused the import ({error}).").format(error=report.error),
                 icon=":material/error:")
    else:
        st.success(_("The file is clean: {rows} rows. Importing it will do this:").format(rows=t.number(report.rows)),
                   icon=":material/task_alt:")
        _show_notes(report)
        ui.show_dataframe(_counts_table(report), columns=COUNT_COLUMNS)
        if report.totals().changed == 0:
            st.info(_("Everything in this file is already in the dashboard: importing it changes nothing."))
        if st.button(_("Import {rows} rows").format(rows=t.number(report.rows)), type="primary",
                     key="import_go", icon=":material/upload:"):
            bar, update = _progress_bar()
            done = run_import(engine, data, kind_name, dry_run=False, actor=viewer.username, progress=update,
                              file_name=uploaded.name, viewer=viewer)
            bar.empty()
            st.session_state["import_result"] = (fingerprint, done)
            st.session_state.pop("import_check", None)  # the next check of this file reads the new state
            if done.written:
                ui.clear_caches()
            st.rerun()

# ---------------------------------------------------------------- CTDC export (administrators)
if viewer.role == "admin":
    st.divider()
    st.subheader(_("CTDC export"))
    st.caption(_("Case data in the public layout of IOM's Counter-Trafficking Data Collaborative, de-identified: "
                 "every released record is identical to at least {k} − 1 others over all its fields (k = {k}); "
                 "rarer records have fields blanked, or are withheld. The download is written to the audit log.")
               .format(k=ctdc.K_DEFAULT))
    with engine.connect() as conn:
        groups, victims = ctdc.combinations(conn, ctdc.K_DEFAULT)
    released = sum(g["n"] for g in groups)
    left, _right = st.columns([1, 2])
    with left:
        ui.metric(_("Victims released"), f"{t.number(released)} / {t.number(victims)}",
                  help=_("Possible and actual victims whose record is shared by at least k cases (after blanking); "
                         "the others are withheld."))

    def _ctdc_file() -> bytes:
        return ctdc.export_csv(engine, viewer.username, ctdc.K_DEFAULT)[0]

    st.download_button(_("Download the CTDC export (CSV)"), _ctdc_file, file_name="ctdc-export.csv", mime="text/csv",
                       icon=":material/download:", key="import_ctdc", on_click="ignore", disabled=released == 0)
