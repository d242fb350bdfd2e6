"""Ingest (§12, §14): events from files, the OULAD extract and the synthetic demo community.

Modules: ``event_files`` (JSONL/CSV event files and batched awarding), ``oulad`` (OULAD mapping), ``demo``."""
