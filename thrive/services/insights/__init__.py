"""Insights for the learner (§7): ``journey`` (history, series, nudges) and ``recommendations``."""
