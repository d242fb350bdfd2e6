"""Accounts (§2, §8.4, §13, §15): learners and staff, their settings, API keys and sign-in.

Modules: ``learners`` (create, update, authenticate), ``settings`` (privacy switches and preferences),
``api_keys`` (hashed, revocable keys for the integration API), ``identities`` (platform identities from
OpenID Connect claims: sign-in, link, unlink) and ``sign_in_links`` (one-time sign-in links), issue 13."""
