"""Blueprints: one package per area (auth, home, community, …, api)."""
