"""Community (§7, §8): who may be seen, and what they share.

Modules: ``feed`` (the 7-day community feed), ``cheers`` (cheers, weekly stats, public profiles),
``follows``, ``discover``."""
