"""Data import: templates, HTCDS case sheets, validation before any write, all-or-nothing.

One code path for the page (``app_pages/data_import.py``) and the command line
(``python -m dashboard import FILE --kind KIND [--dry-run]``)::

    report = run_import(engine, "cases.xlsx", "cases", dry_run=False, actor="admin", progress=bar)
    if report.problems: ...   # nothing was written; each problem has row, column, value, expected

Steps: read (:mod:`.readers`) → check every row (:mod:`.validate`, :mod:`.htcds`) → if
there is no problem, write everything in ONE transaction (:mod:`.write`) and record an
``import`` entry in the audit log (kind, file name, counts; never the file's content).
A dry run does the same and rolls back, so it reports what an import would do. Any
database error rolls the whole import back. See docs/IMPORT.md.
"""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from dashboard import audit
from dashboard.domain import N_
from dashboard.ingest import kinds, readers, validate, write
from dashboard.ingest.report import Counts, ImportReport, Note, Problem
from dashboard.privacy import Viewer

__all__ = ["run_import", "ImportReport", "Problem", "Note", "Counts", "kinds"]

LABEL_READ = N_("Reading the file")
LABEL_CHECK = N_("Checking every row")
LABEL_WRITE = N_("Writing to the database")
LABEL_DONE = N_("Done")
M_DB_ERROR = N_("The database refused the import: {error}")

SHEET_NAMES = {"htcds": ("Case Sheet",)}


def _french():
    from dashboard.i18n import translator

    return translator("fr").gettext


def _db_error(exc: Exception) -> str:
    """The driver's message without the SQL or its parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def run_import(engine, source, kind: str, dry_run: bool = False, actor: str | None = None, progress=None, *,
               file_name: str | None = None, viewer: Viewer | None = None, today: date | None = None,
               hash_key: str | None = None) -> ImportReport:
    """Check a file and, when it is clean and not a dry run, import it in one transaction.

    ``source``: bytes or a path. ``progress(label, fraction)`` is called as it goes (label:
    an English msgid). ``viewer``: who imports (the page passes the signed-in user: their
    region scope applies); default: a national administrator named ``actor`` (the CLI).
    ``hash_key``: the HMAC key for HTCDS identities (default ``settings.hash_key``)."""
    if viewer is None:
        viewer = Viewer(actor or "cli", "admin")
    actor = actor or viewer.username
    started = time.monotonic()
    spec = kinds.get(kind)
    if file_name is None:
        file_name = Path(source).name if isinstance(source, (str, Path)) else ""
    report = ImportReport(kind=kind, file_name=file_name, dry_run=dry_run)
    tick = progress or (lambda label, fraction: None)
    today = today or date.today()
    if kind == "htcds" and hash_key is None:
        from dashboard.settings import load_settings

        hash_key = load_settings().hash_key

    tick(LABEL_READ, 0.0)
    sheet = readers.read(source, file_name, SHEET_NAMES.get(kind, (kind,)))
    tick(LABEL_CHECK, 0.25)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            check = lambda f: tick(LABEL_CHECK, 0.25 + 0.35 * f)  # noqa: E731
            checked = validate.validate(conn, spec, sheet, today, viewer, _french(), check, hash_key=hash_key)
            order = {h: i for i, h in enumerate(sheet.headers)}
            del sheet  # the cells (names, for HTCDS) are not kept
            report.rows = checked.rows
            report.problems = sorted(checked.problems, key=lambda p: (-1 if p.row is None else p.row,
                                                                      order.get(p.column, -1)))
            report.notes = checked.notes
            if checked.problem_total > len(checked.problems):
                report.notes.append(Note(N_("{n} problems in all: the first {shown} are listed."),
                                         {"n": checked.problem_total, "shown": len(checked.problems)}))
            if report.problems:
                trans.rollback()
                return _done(report, started, tick)
            tick(LABEL_WRITE, 0.6)
            write.write(conn, checked, report, actor, lambda f: tick(LABEL_WRITE, 0.6 + 0.38 * f))
            if dry_run:
                trans.rollback()
            else:
                audit.record(conn, actor, "import", target=file_name or kind, detail=report.summary())
                trans.commit()
                report.written = True
        except sa.exc.SQLAlchemyError as exc:
            if trans.is_active:
                trans.rollback()
            report.error = _db_error(exc)
            report.counts = {}
            report.written = False
    return _done(report, started, tick)


def _done(report: ImportReport, started: float, tick) -> ImportReport:
    report.seconds = time.monotonic() - started
    tick(LABEL_DONE, 1.0)
    return report
