"""``flask thrive create-admin`` (§11, §12): staff role "admin", not a learner unless asked."""
from __future__ import annotations

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Learner


def account(app, username: str) -> tuple[str | None, bool]:
    with app.app_context():
        row = db.session.scalar(select(Learner).where(Learner.username == username))
        result = (row.staff_role, row.is_learner)
        db.session.remove()
        return result


def test_create_admin_makes_staff_that_is_not_a_learner(app, runner, make_learner):
    result = runner.invoke(args=["thrive", "create-admin", "boss", "--password", "longenough1"])
    assert result.exit_code == 0, result.output
    assert account(app, "boss") == ("admin", False)
    result = runner.invoke(args=["thrive", "create-admin", "teacher", "--password", "longenough1", "--also-learner"])
    assert result.exit_code == 0 and account(app, "teacher") == ("admin", True)


def test_promoting_a_learner_keeps_them_a_learner(app, runner, make_learner):
    make_learner("ada")
    result = runner.invoke(args=["thrive", "create-admin", "ada", "--password", "longenough1"])
    assert result.exit_code == 0 and "Promoted ada" in result.output
    assert account(app, "ada") == ("admin", True)
