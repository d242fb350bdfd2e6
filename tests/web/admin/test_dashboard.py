"""The admin dashboard page (§11): read from the scheduler's snapshot when there is one, and says how fresh it is."""
from __future__ import annotations

from thrive import jobs


def test_the_page_reads_the_snapshot_and_states_its_freshness(app, as_admin):
    page = as_admin.get("/admin/")
    assert page.status_code == 200
    assert "the scheduler has stored no recent figures" in page.text
    with app.app_context():
        assert jobs.run("admin_dashboard").status == "succeeded"
    page = as_admin.get("/admin/")
    assert page.status_code == 200
    assert "The scheduler refreshes these figures every 5 minutes." in page.text
    assert "Figures as of" in page.text
    assert as_admin.get("/admin/dashboard/weeks.csv").status_code == 200
