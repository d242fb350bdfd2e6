"""Achievements (§10): definitions (:mod:`.catalog`), criteria (:mod:`.criteria`), granting in the award
transaction, revocation and visibility (:mod:`.grants`), the backfill (:mod:`.backfill`) and reading
(:mod:`.reading`).

Importing :mod:`thrive.services.achievements.grants` registers the award hook
(``thrive.HOOKED_SERVICES`` lists it).
"""
