"""Command line: ``python -m dashboard COMMAND --help``."""
from __future__ import annotations

import argparse
import getpass
import sys
import time
from datetime import date

from dashboard.settings import load_settings


class ProgressBar:
    """A terminal progress bar: ``bar(label, fraction)``."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self.started = stream, width, time.monotonic()

    def __call__(self, label: str, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction:6.1%} {label[:40]:<40} {time.monotonic() - self.started:6.1f}s")
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def _engine(args):
    from dashboard.db import make_engine

    return make_engine(args.db or load_settings().database_url)


def cmd_db_upgrade(args) -> int:
    from dashboard.migrate import current_revision, upgrade

    engine = _engine(args)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}: {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_demo(args) -> int:
    from dashboard import bootstrap
    from dashboard.migrate import upgrade

    engine = _engine(args)
    upgrade(engine)
    with engine.connect() as conn:
        if bootstrap.meta_value(conn, "country") is not None and not args.force:
            print("this database already holds data; use --force to add demo data anyway", file=sys.stderr)
            return 2
    today = date.fromisoformat(args.today) if args.today else None
    started = time.monotonic()
    counts = bootstrap.fill_demo(engine, args.country, args.cases, seed=args.seed, progress=ProgressBar(), today=today)
    print(f"demo data for {args.country}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, int)))
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


def cmd_users(args) -> int:
    from dashboard import users

    engine = _engine(args)
    try:
        with engine.begin() as conn:
            if args.users_cmd == "list":
                for u in users.list_users(conn):
                    scope = ",".join(u["regions"]) if u["regions"] else "national"
                    state = "active" if u["active"] else "disabled"
                    print(f"{u['username']:<16} {u['role']:<10} {scope:<20} {state:<8} {u['display_name']}")
            elif args.users_cmd == "add":
                password = args.password or getpass.getpass("Password: ")
                users.add_user(conn, args.username, args.name or args.username, args.role, password,
                               regions=args.regions.split(",") if args.regions else (), can_import=args.can_import,
                               actor="cli")
                print(f"added {args.username} ({args.role})")
            elif args.users_cmd == "set-password":
                password = args.password or getpass.getpass("New password: ")
                users.set_password(conn, args.username, password, actor="cli")
                print(f"password changed for {args.username}")
            elif args.users_cmd == "disable":
                users.update_user(conn, args.username, actor="cli", active=False)
                print(f"disabled {args.username}")
    except users.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_i18n(args) -> int:
    from dashboard import i18n_check

    if args.i18n_cmd == "update":
        for path in i18n_check.update():
            print(f"updated {path}")
    problems = i18n_check.problems()
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_import(args) -> int:
    """Check a file and import it (``--dry-run``: check only); same code path as the page."""
    from dashboard.i18n import translator
    from dashboard.ingest import run_import

    t = translator(args.lang).gettext
    report = run_import(_engine(args), args.file, args.kind, dry_run=args.dry_run, actor=args.actor,
                        progress=ProgressBar(stream=sys.stderr))
    for note in report.notes:
        print(note.text(t))
    if report.problems:
        print(f"Nothing was written. Problems found: {len(report.problems)}")
        for p in report.problems[: args.max_problems]:
            cell = p.value if p.value is not None else ""
            print(f"  row {p.row if p.row is not None else '-'} | {p.column or '-'} | {cell} | "
                  f"expected: {p.expected_text(t)}")
        if len(report.problems) > args.max_problems:
            print(f"  … (+{len(report.problems) - args.max_problems})")
        return 1
    if report.error:
        print(f"Nothing was written: the database refused the import ({report.error}).", file=sys.stderr)
        return 2
    for table, c in report.counts.items():
        print(f"{table}: inserted {c.inserted}, updated {c.updated}, unchanged {c.unchanged}")
    what = "Dry run: nothing was written." if args.dry_run else f"Imported {report.rows} rows."
    print(f"{what} ({report.seconds:.1f} s)")
    return 0


def cmd_export(args) -> int:
    from dashboard.ingest import ctdc

    data, result = ctdc.export_csv(_engine(args), actor=args.actor, k=args.k)
    with open(args.out, "wb") as fh:
        fh.write(data)
    print(f"CTDC export (k = {result.k}): {result.released} of {result.cases} victims released "
          f"({result.generalised} with some fields blanked), {result.withheld} withheld -> {args.out}")
    return 0


def cmd_templates(args) -> int:
    from dashboard.ingest import templates

    conn = None
    try:
        engine = _engine(args)
        conn = engine.connect()
    except Exception:  # noqa: BLE001 - without a database the template lacks the reference codes only
        conn = None
    try:
        data = templates.template(args.kind, args.lang, args.format, conn)
    finally:
        if conn is not None:
            conn.close()
    with open(args.out, "wb") as fh:
        fh.write(data)
    print(f"template {args.kind} ({args.lang}, {args.format}) -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="NRM Dashboard command line.")
    parser.add_argument("--db", help="database URL (default: NRM_DATABASE_URL, secrets.toml, or data/nrm.db)")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_cmd", required=True)
    up = db_sub.add_parser("upgrade", help="create or upgrade the schema to the latest migration")
    up.set_defaults(func=cmd_db_upgrade)

    demo = sub.add_parser("demo", help="fill a database with generated demo data")
    demo.add_argument("--country", default="mali", help="country profile (data/profiles/NAME.yaml)")
    demo.add_argument("--cases", type=int, default=10_000, help="number of cases (default 10000)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    demo.add_argument("--today", help="end date of the generated history (YYYY-MM-DD; default today)")
    demo.add_argument("--force", action="store_true", help="add demo data to a database that already holds data")
    demo.set_defaults(func=cmd_demo)

    us = sub.add_parser("users", help="dashboard accounts")
    us_sub = us.add_subparsers(dest="users_cmd", required=True)
    us_sub.add_parser("list", help="list accounts").set_defaults(func=cmd_users)
    add = us_sub.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "committee", "minister", "partner"])
    add.add_argument("--name", help="display name")
    add.add_argument("--regions", help="comma-separated region codes this user is limited to")
    add.add_argument("--can-import", action="store_true", help="allow a committee member to import data")
    add.add_argument("--password", help="password (asked for when omitted)")
    add.set_defaults(func=cmd_users)
    sp = us_sub.add_parser("set-password", help="set a new password")
    sp.add_argument("username")
    sp.add_argument("--password", help="password (asked for when omitted)")
    sp.set_defaults(func=cmd_users)
    dis = us_sub.add_parser("disable", help="disable an account")
    dis.add_argument("username")
    dis.set_defaults(func=cmd_users)

    from dashboard.ingest.kinds import KINDS

    imp = sub.add_parser("import", help="check a CSV/XLSX file and import it (all or nothing)")
    imp.add_argument("file", help="the .csv or .xlsx file")
    imp.add_argument("--kind", required=True, choices=list(KINDS), help="what the file holds")
    imp.add_argument("--dry-run", action="store_true", help="check only: report problems and counts, write nothing")
    imp.add_argument("--actor", default="cli", help="user name written to the audit log (default: cli)")
    imp.add_argument("--lang", default="en", choices=["en", "fr"], help="language of the problems listed")
    imp.add_argument("--max-problems", type=int, default=100, help="problems printed (default 100)")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="de-identified exports")
    exp_sub = exp.add_subparsers(dest="export_cmd", required=True)
    ct = exp_sub.add_parser("ctdc", help="case data in the CTDC public layout, k-anonymised")
    ct.add_argument("--out", required=True, help="CSV file to write")
    ct.add_argument("--k", type=int, default=11, help="minimum records per released combination (default 11)")
    ct.add_argument("--actor", default="cli", help="user name written to the audit log (default: cli)")
    ct.set_defaults(func=cmd_export)

    tpl = sub.add_parser("templates", help="write a blank import template")
    tpl.add_argument("--kind", required=True, choices=list(KINDS))
    tpl.add_argument("--lang", default="fr", choices=["fr", "en"])
    tpl.add_argument("--format", default="xlsx", choices=["csv", "xlsx"])
    tpl.add_argument("--out", required=True)
    tpl.set_defaults(func=cmd_templates)

    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n_sub = i18n.add_subparsers(dest="i18n_cmd", required=True)
    i18n_sub.add_parser("check", help="list msgids missing or untranslated").set_defaults(func=cmd_i18n)
    i18n_sub.add_parser("update", help="add missing msgids to the catalogs, then check").set_defaults(func=cmd_i18n)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
