"""``flask thrive …``: ops commands, thin wrappers over services (§12).

Each area registers its commands on :data:`thrive_cli` in its own module.
"""
from flask.cli import AppGroup

thrive_cli = AppGroup("thrive", help="Thrive operations: seeding, imports, verification, jobs.")

from . import (  # noqa: E402 — the modules register on thrive_cli, defined above
    achievements,  # noqa: E402,F401
    circles,  # noqa: E402,F401
    config_data,  # noqa: E402,F401
    core,  # noqa: E402,F401
    data_requests,  # noqa: E402,F401
    demo,  # noqa: E402,F401
    imports,  # noqa: E402,F401
    sign_in,  # noqa: E402,F401
    weekly,  # noqa: E402,F401
)
