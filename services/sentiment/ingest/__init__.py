"""Bulk ingestion from files: `civicpulse mentions import FILE` (JSONL or CSV)."""
