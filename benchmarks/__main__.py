"""``python -m benchmarks``: the page benchmark (see benchmarks/run.py)."""
from benchmarks.run import main

raise SystemExit(main())
