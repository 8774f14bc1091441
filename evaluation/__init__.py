"""The commands that judge: closed-loop evaluation and replays (`run.py`), open-loop errors against
demonstrations (`open_loop.py`), the comparison table (`compare.py`), benchmarks (`bench.py`,
`bench_policies.py`); and the reports they write (`report.py`, `plots.py`)."""
