"""Domain services: plain arguments in, own their transactions (§3)."""
