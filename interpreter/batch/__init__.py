"""Batch files (CSV, JSONL, Parquet) in and out, every row checked and numbered."""
