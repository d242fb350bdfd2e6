"""The points platform (§4): the single ``award()`` entry point, the rule registry and its defaults,
and ``verify`` (the ledger is the truth: recompute derived state and report drift).

Modules: ``events`` (the one validator of an award request), ``award`` (award, hooks), ``batch``
(award_many, award_events: batches for the API and importers), ``locks`` (the award transaction's
working set and prebuilt statements), ``history`` (ledger paging), ``registry`` (cached rules, tiers,
levels), ``defaults`` (§4.2/§5 seed values), ``verify``."""
