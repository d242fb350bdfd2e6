"""Admin domain (§11): audit log, dashboard aggregates, learner support, circles, jobs, API keys.

Public surface: :func:`thrive.services.admin.audit.record` (call it inside the
staff action's own transaction), and the section services in this package.
"""
