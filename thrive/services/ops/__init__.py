"""Operations (§15): readiness checks and the scheduler heartbeat."""
