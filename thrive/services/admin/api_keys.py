"""API keys from the admin area (§11, §13): create (plaintext shown once) and revoke, audited."""
from __future__ import annotations

from thrive.db import write_transaction
from thrive.models import ApiKey, Learner
from thrive.services.accounts import api_keys
from thrive.services.admin.audit import record


def _snapshot(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "revoked_at": row.revoked_at}


def create_key(actor: Learner, name: str) -> tuple[ApiKey, str]:
    """Create an API key named ``name`` for ``actor`` (an admin); return (row, plaintext).

    The plaintext is never stored (only its SHA-256) and never audited. Raises
    ``ValidationError`` for an empty or too long name; nothing is written then.
    """
    with write_transaction():
        row, plaintext = api_keys.create_api_key(name, commit=False)
        record(actor, "api_key.create", "api_key", row.id, None, _snapshot(row))
    return row, plaintext


def revoke_key(actor: Learner, key_id: int) -> ApiKey:
    """Revoke key ``key_id``; raises ``NotFound``. Revoking a revoked key changes nothing but is audited too."""
    with write_transaction():
        from thrive.extensions import db

        row = db.session.get(ApiKey, key_id)
        before = _snapshot(row) if row else None
        row = api_keys.revoke_api_key(key_id, commit=False)
        record(actor, "api_key.revoke", "api_key", row.id, before, _snapshot(row))
    return row


list_keys = api_keys.list_api_keys
