"""XLSX export: content, formula safety (SECURITY.md 24), scope and hidden fields, and export jobs whose file
only the requester can download."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.exports import service as exports
from core.exports.models import ExportJob
from core.testing.factories import make_record

FORMULAS = ["=1+1", " =1+1", "\t=1+1", "\r=1+1", "\u00a0=1+1", ";=1+1", "+1", "-1+2", "@SUM(A1)", "＝1+1"]


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    return workbook.worksheets[0]


def _customer(gx, session, owner, name, **values):
    record, _ = make_record(session, gx.entities["customer"], owner, gx.entities, mark=name)
    record.name = name
    for key, value in values.items():
        setattr(record, key, value)
    session.commit()
    return record


def test_xlsx_content_and_formula_safety(gx, org, client_as, system_session):
    for i, text in enumerate(FORMULAS):
        _customer(gx, system_session, org.manager_east, text, city="上海", phone=f"1380013800{i}", code=f"F{i}")
    sheet = _sheet(client_as(org.manager_east).get("/r/customer/export.xlsx?sort=name"))
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header[:3] == ["ID", "Name", "Status"]
    names = {}
    for row in rows[1:]:
        cells = dict(zip(header, row))
        assert cells["ID"].data_type == "n"
        assert cells["Name"].data_type == "s" and cells["Phone"].data_type == "s"
        names[cells["Name"].value] = cells
    for text in FORMULAS:  # defused: an apostrophe first, stored as a string (XML turns \r into \n)
        assert "'" + text.replace("\r", "\n") in names, repr(text)
    assert names["'=1+1"]["City"].value == "上海"
    assert names["'=1+1"]["Owner"].value == org.manager_east.name
    assert all(cell.data_type != "f" for row in rows for cell in row)


def test_xlsx_export_scope_equals_list_scope(gx, org, client_as, system_session):
    mine = _customer(gx, system_session, org.rep_east, "东区甲")
    team = _customer(gx, system_session, org.rep_east_sub, "东区乙")
    west = _customer(gx, system_session, org.rep_west, "西区丙")
    ids = {mine.id: "mine", team.id: "team", west.id: "west"}
    sheet = _sheet(client_as(org.manager_east).get("/r/customer/export.xlsx"))
    exported = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert {ids[i] for i in exported if i in ids} == {"mine", "team"}
    sheet = _sheet(client_as(org.manager_east).get("/r/customer/export.xlsx?q=东区乙"))
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [team.id]
    assert client_as(org.rep_east).get("/r/customer/export.xlsx").status_code == 403  # no export permission


def test_hidden_fields_are_not_exported(gx, org, client_as, system_session):
    product, _ = make_record(system_session, gx.entities["product"], None, gx.entities, mark="prod")
    from decimal import Decimal
    product.cost, product.price = Decimal("12.34"), Decimal("99.00")
    system_session.commit()
    boss_header = [c.value for c in next(_sheet(client_as(org.boss).get("/r/product/export.xlsx")).iter_rows())]
    assert "Purchase cost" in boss_header
    manager = client_as(org.manager_east)
    assert manager.get("/r/product/export.xlsx").status_code == 403  # managers may view products, not export
    from core.models import Role, RoleGrant
    role = Role(key="catalogue_export", name="Catalogue export")
    role.grants = [RoleGrant(permission=p, level="all") for p in ("core.product.view", "core.product.export")]
    system_session.add(role)
    user = system_session.merge(org.rep_west)
    user.roles = [role]
    system_session.commit()
    sheet = _sheet(client_as(org.rep_west).get("/r/product/export.xlsx"))
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "Purchase cost" not in values and Decimal("12.34") not in values and 12.34 not in values


@pytest.fixture
def small_threshold(app):
    previous, app.config["EXPORT_JOB_THRESHOLD"] = app.config.get("EXPORT_JOB_THRESHOLD", 5000), 2
    yield
    app.config["EXPORT_JOB_THRESHOLD"] = previous


def test_large_export_runs_as_job_only_requester_downloads(gx, app, org, client_as, system_session,
                                                           small_threshold):
    for i in range(4):
        _customer(gx, system_session, org.manager_east, f"客户{i}")
    _customer(gx, system_session, org.manager_west, "西区客户")
    manager = client_as(org.manager_east)
    response = manager.get("/r/customer/export.xlsx?sort=name")
    assert response.status_code == 302 and "/export/" in response.headers["Location"]
    job = system_session.execute(select(ExportJob)).scalar_one()
    assert (job.status, job.user_id, job.total, job.processed) == ("done", org.manager_east.id, 4, 4)
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/export/{job.id}/download" in page
    sheet = _sheet(manager.get(f"/export/{job.id}/download"))
    assert sorted(row[1].value for row in sheet.iter_rows(min_row=2)) == [f"客户{i}" for i in range(4)]
    stored = exports.storage_dir(app.config) / job.stored_name
    assert stored.is_file() and stored.parent.name == "exports"
    for login in ("manager_west", "boss", "admin", "rep_east"):
        other = client_as(getattr(org, login))
        for url in (f"/export/{job.id}", f"/export/{job.id}/status", f"/export/{job.id}/download"):
            assert other.get(url).status_code == 404, (login, url)


def test_export_job_keeps_filters_and_old_files_are_cleaned(gx, app, org, client_as, system_session,
                                                            small_threshold):
    for i in range(3):
        _customer(gx, system_session, org.boss, f"上海{i}", city="上海")
    _customer(gx, system_session, org.boss, "北京0", city="北京")
    boss = client_as(org.boss)
    response = boss.get("/r/customer/export.xlsx?f_city=上海")
    job = system_session.execute(select(ExportJob)).scalar_one()
    sheet = _sheet(boss.get(f"/export/{job.id}/download"))
    assert sorted(row[1].value for row in sheet.iter_rows(min_row=2)) == ["上海0", "上海1", "上海2"]
    assert response.status_code == 302
    path = exports.storage_dir(app.config) / job.stored_name
    removed = exports.cleanup(system_session, app.config, now=job.finished_at + dt.timedelta(days=1))
    assert removed == 0 and path.is_file()
    removed = exports.cleanup(system_session, app.config, now=job.finished_at + dt.timedelta(days=30))
    assert removed >= 1 and not path.exists()
    assert boss.get(f"/export/{job.id}/download").status_code == 404
    assert "core.exports.cleanup" in gx.jobs.scheduled
