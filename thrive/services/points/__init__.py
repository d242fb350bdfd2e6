"""The points platform (§4): the single ``award()`` entry point, the rule registry and its defaults,
and ``verify`` (the ledger is the truth: recompute derived state and report drift).

Modules: ``award`` (award, award_many, hooks), ``registry`` (cached rules, tiers, levels),
``defaults`` (§4.2/§5 seed values), ``verify``."""
