"""Import jobs belong to their importer (SECURITY.md 9): the leak matrix of job pages and error reports, and
"undo this import"."""
from __future__ import annotations

from sqlalchemy import select

from core.models import AuditEntry, Customer
from core.testing.factories import make_record
from tests.core.import_helpers import csv_bytes, full_import, load_job

ROWS = [["名称", "E-mail", "城市"], ["甲公司", "a@example.com", "上海"], ["乙公司", "bad-mail", "北京"]]


def _import(client, csrf):
    return full_import(client, csrf, "customer", csv_bytes(ROWS), {0: "name", 1: "email", 2: "city"})


def test_error_report_lists_failed_rows_with_field_errors(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    job_id = _import(client, csrf)
    response = client.get(f"/import/customer/{job_id}/errors.csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert lines[0] == '"Row","名称","E-mail","城市","Errors"'
    assert lines[1] == '"3","乙公司","bad-mail","北京","E-mail: Not a valid e-mail address."'
    assert len(lines) == 2
    page = client.get(f"/import/customer/{job_id}").get_data(as_text=True)
    assert 'data-count="created">1<' in page and 'data-count="failed">1<' in page


def test_error_report_defuses_formulas(org, client_as, csrf):
    client = client_as(org.rep_east)
    rows = [["名称", "E-mail"], ["=HYPERLINK(\"http://evil\")", "nope"]]
    job_id = full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: "email"})
    text = client.get(f"/import/customer/{job_id}/errors.csv").get_data(as_text=True)
    assert '"\'=HYPERLINK(""http://evil"")"' in text


def test_leak_matrix_of_import_jobs(org, client_as, csrf):
    importer = client_as(org.rep_east)
    job_id = _import(importer, csrf)
    urls = [f"/import/customer/{job_id}", f"/import/customer/{job_id}/status",
            f"/import/customer/{job_id}/errors.csv", f"/import/customer/{job_id}/mapping",
            f"/import/customer/{job_id}/preview"]
    for login in ("rep_east_sub", "rep_west", "manager_east", "manager_west", "boss"):
        client = client_as(getattr(org, login))
        for url in urls:
            assert client.get(url).status_code == 404, (login, url)
        token = csrf(client, "/import/customer/")
        assert client.post(f"/import/customer/{job_id}/undo", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/import/customer/{job_id}/run", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/import/customer/{job_id + 1000}").status_code == 404
    admin = client_as(org.admin)  # may open and undo it, never read the report (it repeats the file's data)
    assert admin.get(f"/import/customer/{job_id}").status_code == 200
    assert admin.get(f"/import/customer/{job_id}/errors.csv").status_code == 404
    assert "errors.csv" not in admin.get(f"/import/customer/{job_id}").get_data(as_text=True)
    assert importer.get(f"/import/customer/{job_id}/errors.csv").status_code == 200
    assert importer.get(f"/import/contact/{job_id}").status_code == 404  # the job is of another entity


def test_undo_deletes_created_and_restores_updated(gx, org, client_as, csrf, system_session):
    old, _ = make_record(system_session, gx.entities["customer"], org.rep_east, gx.entities, mark="old")
    old.name, old.email, old.city = "旧客户", "old@example.com", "上海"
    system_session.commit()
    client = client_as(org.rep_east)
    rows = [["名称", "E-mail", "城市"], ["旧客户", "old@example.com", "深圳"], ["新客户", "new@example.com", "北京"]]
    job_id = full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: "email", 2: "city"},
                         match="email", duplicates="update")
    job = load_job(system_session, job_id)
    assert (job.created, job.updated) == (1, 1)
    token = csrf(client, f"/import/customer/{job_id}")
    assert client.post(f"/import/customer/{job_id}/undo", data={"csrf_token": token}).status_code == 302
    assert load_job(system_session, job_id).status == "undone"
    restored = system_session.execute(select(Customer).where(Customer.id == old.id)
                                      .execution_options(populate_existing=True)).scalar_one()
    assert restored.city == "上海" and restored.deleted_at is None
    gone = system_session.execute(select(Customer).where(Customer.name == "新客户")
                                  .execution_options(include_deleted=True, populate_existing=True)).scalar_one()
    assert gone.deleted_at is not None  # in the recycle bin
    actions = set(system_session.execute(select(AuditEntry.action).where(AuditEntry.record_id == gone.id)).scalars())
    assert actions == {"import", "import-undo"}


def test_undo_is_refused_when_a_record_changed_since(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    job_id = _import(client, csrf)
    record = system_session.execute(select(Customer).where(Customer.name == "甲公司")).scalar_one()
    token = csrf(client, f"/r/customer/{record.id}/edit")
    edited = client.post(f"/r/customer/{record.id}/edit", data={
        "csrf_token": token, "name": "甲公司（改）", "kind": "company", "status": "potential",
        "version": str(record.version)})
    assert edited.status_code == 302, edited.get_data(as_text=True)[:500]
    client.post(f"/import/customer/{job_id}/undo", data={"csrf_token": csrf(client, f"/import/customer/{job_id}")})
    job = load_job(system_session, job_id)
    assert job.status == "done" and "changed or deleted since" in job.message
    still = system_session.execute(select(Customer).where(Customer.id == record.id)
                                   .execution_options(populate_existing=True)).scalar_one()
    assert still.deleted_at is None and still.name == "甲公司（改）"


def test_undo_by_admin(org, client_as, csrf, system_session):
    job_id = _import(client_as(org.rep_east), csrf)
    admin = client_as(org.admin)
    admin.post(f"/import/customer/{job_id}/undo", data={"csrf_token": csrf(admin, f"/import/customer/{job_id}")})
    assert load_job(system_session, job_id).status == "undone"
    assert system_session.execute(select(Customer).where(Customer.name == "甲公司")).scalar_one_or_none() is None
