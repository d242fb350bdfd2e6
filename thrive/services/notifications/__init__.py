"""Notifications (§9): ``sending`` (preference-aware creation), ``inbox`` (reading, marking read)
and ``celebrations`` (one-time celebration moments claimed by the page)."""
