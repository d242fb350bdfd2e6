"""Side quests (§10): definitions (:mod:`.catalog`), runs and progress (:mod:`.progress`), reading (:mod:`.board`).

Importing :mod:`thrive.services.quests.progress` registers the award hook
(``thrive.HOOKED_SERVICES`` lists it).
"""
