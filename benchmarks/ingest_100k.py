"""Time the import of a large generated case file (issue 8: 100,000 rows in under a minute).

    .venv/bin/python benchmarks/ingest_100k.py [--rows 100000] [--format csv|xlsx|htcds] [--db URL]

Builds a fresh SQLite database (or uses --db, which must be empty and migrated), loads the
Mali reference data, writes the file with the generator of tests/ingest_support.py, then
imports it twice (the second import must change nothing) and prints the timings.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.db import make_engine  # noqa: E402
from dashboard.ingest import run_import  # noqa: E402
from dashboard.migrate import upgrade  # noqa: E402
from tests.ingest_support import TODAY, case_csv, case_xlsx, csv_bytes, with_reference  # noqa: E402


def htcds_csv(n: int) -> bytes:
    """n HTCDS rows, one person in ten sent by two agencies."""
    import random

    rng = random.Random(3)
    header = ["cas_CaseOwner", "prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender", "prs_Citizenship",
              "vic_TypeOfExploitation", "cas_Status", "cas_ReferringOrganisation", "cas_IncomingReferralDate"]
    owners = ["DNDS", "APDF", "BNCE", "SAMU", "CARITAS-GAO"]
    rows = []
    for i in range(n):
        person = i if i % 10 else i - 1
        born = date(1970, 1, 1) + timedelta(days=person * 7 % 15000)
        rows.append([rng.choice(owners), f"Given{person}", f"Family{person}", born.isoformat(),
                     rng.choice(["Feminine", "Masculine"]), rng.choice(["Mali", "BF"]),
                     rng.choice(["Forced labour", "Sexual exploitation"]), rng.choice(["Active", "Closed"]),
                     rng.choice(["POL-BKO", "GEND-KYS", ""]),
                     (TODAY - timedelta(days=rng.randrange(1500))).isoformat()])
    return csv_bytes(header, rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--format", choices=["csv", "xlsx", "htcds"], default="csv")
    p.add_argument("--db", help="an empty migrated database (default: a fresh SQLite file)")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="ingest-bench-")
    url = args.db or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    with_reference(engine)
    started = time.monotonic()
    data = {"csv": case_csv, "xlsx": case_xlsx, "htcds": htcds_csv}[args.format](args.rows)
    print(f"generated {args.rows} rows ({args.format}, {len(data) / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")
    kind = "htcds" if args.format == "htcds" else "cases"
    for attempt in ("first import", "same file again"):
        t0, c0 = time.monotonic(), time.process_time()
        report = run_import(engine, data, kind, actor="bench", today=TODAY, hash_key="bench-key" * 4)
        seconds, cpu = time.monotonic() - t0, time.process_time() - c0
        if not report.ok:
            print(f"refused: {report.error or [p.as_dict() for p in report.problems[:5]]}")
            return 1
        counts = ", ".join(f"{t}: +{c.inserted} ~{c.updated} ={c.unchanged}" for t, c in report.counts.items())
        print(f"{attempt}: {seconds:.1f} s wall, {cpu:.1f} s CPU ({args.rows / seconds:,.0f} rows/s) — {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
