"""Performance benchmark (``python -m benchmarks``) and concurrent load (``python -m benchmarks.load``).
Not part of the test suite; results in benchmarks/RESULTS.md."""
