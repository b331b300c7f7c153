"""Projects imported from a file get what the form gives them: a number, the first stage, a timeline row."""
from __future__ import annotations

from sqlalchemy import select

from plugins.projects.models import Project, StageHistory
from tests.core.import_helpers import csv_bytes, full_import, load_job
from tests.plugins.projects.test_projects_pages import stages


def test_imported_projects_get_numbers_stages_and_timelines(org, client_as, csrf, system_session):
    first = stages(system_session)[0]
    rep = client_as(org.rep_east)
    data = csv_bytes([["项目名称", "编号"], ["智慧园区一期", ""], ["地铁信号改造", "PRJ-IMPORT-7"],
                      ["重复编号", "PRJ-IMPORT-7"]])
    job_id = full_import(rep, csrf, "project", data, {0: "name", 1: "number"})
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (2, 1)  # a number may be used once
    projects = {p.name: p for p in system_session.execute(select(Project)).scalars()}
    assert set(projects) == {"智慧园区一期", "地铁信号改造"}
    assert projects["智慧园区一期"].number.startswith("PRJ-") and projects["地铁信号改造"].number == "PRJ-IMPORT-7"
    assert {p.stage_id for p in projects.values()} == {first.id}
    assert {p.owner_id for p in projects.values()} == {org.rep_east.id}
    timeline = system_session.execute(select(StageHistory.project_id, StageHistory.to_stage_id)).all()
    assert sorted(timeline) == sorted((p.id, first.id) for p in projects.values())
