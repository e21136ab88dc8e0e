"""Batch files (CSV, JSONL, Parquet) in and out, every row checked and numbered.

``run`` (``evaluate_file``, ``evaluate_parsed_rows``), ``readers``, ``columns`` (the quick
readers and packing for the columnar engine), ``writers``."""
