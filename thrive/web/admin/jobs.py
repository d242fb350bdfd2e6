"""Admin → jobs (§11, §6.3): job runs, run now (same locked service as the scheduler), missed windows."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive import jobs as job_registry
from thrive.services.admin import jobs as service
from thrive.services.errors import ThriveError

from . import bp
from .forms import RunJobForm
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.jobs", _l("Jobs"), ADMINS))


def _render(forms=None, outcome=None, status: int = 200):
    job = request.args.get("job") or None
    if job and job not in job_registry.JOBS:
        job = None
    forms = forms or {}
    for name in job_registry.JOBS:
        forms.setdefault(name, RunJobForm(formdata=None, prefix=name))
    page = service.runs_page(request.args.get("page", 1, type=int) or 1, job)
    return render_template("admin/jobs.html", overview=service.overview(), page=page, forms=forms, outcome=outcome,
                           duration=service.duration_seconds, job=job, job_names=list(job_registry.JOBS)), status


@bp.route("/jobs")
def jobs():
    return _render()


@bp.route("/jobs/<name>/run", methods=["POST"])
def jobs_run(name: str):
    if name not in job_registry.JOBS:
        abort(404)
    form = RunJobForm(prefix=name)
    if not form.validate_on_submit():
        return _render({name: form}, status=400)
    try:
        outcome = service.run_now(current_user, name, (form.period.data or "").strip() or None)
    except ThriveError as exc:
        form.period.errors.append(exc.message)
        return _render({name: form}, status=400)
    return _render(outcome=outcome)
