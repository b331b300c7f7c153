"""Import: every reader (UTF-8, BOM, GBK, GB18030, XLSX), the mapping, preview, run, duplicates, owners."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AuditEntry, Customer
from tests.core.import_helpers import csv_bytes, full_import, job_id_of, load_job, map_columns, upload, xlsx_bytes

HEADER = ["名称", "电话", "城市", "E-mail"]
ROWS = [["上海华东贸易有限公司", "021-5555 0001", "上海", "a@example.com"],
        ["北京测试科技", "13800138000", "北京", "b@example.com"]]
MAPPING = {0: "name", 1: "phone", 2: "city", 3: "email"}


def _customers(session):
    return {c.name: c for c in session.execute(
        select(Customer).execution_options(populate_existing=True)).scalars()}


def _check_imported(system_session, org, job_id):
    job = load_job(system_session, job_id)
    assert (job.status, job.created, job.failed) == ("done", 2, 0), job.message
    customers = _customers(system_session)
    assert customers["上海华东贸易有限公司"].city == "上海"
    assert customers["北京测试科技"].phone == "13800138000"
    assert customers["北京测试科技"].owner_id == org.rep_east.id
    assert customers["北京测试科技"].department_id == org.rep_east.department_id


def test_utf8_csv(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    job_id = full_import(client, csrf, "customer", csv_bytes([HEADER, *ROWS]), MAPPING)
    _check_imported(system_session, org, job_id)


def test_utf8_with_bom(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    job_id = full_import(client, csrf, "customer", csv_bytes([HEADER, *ROWS], bom=True), MAPPING)
    job = load_job(system_session, job_id)
    assert job.encoding == "utf-8-sig" and job.header[0] == "名称"
    _check_imported(system_session, org, job_id)


def test_gbk_csv_as_chinese_excel_writes_it(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    data = csv_bytes([HEADER, *ROWS], encoding="gbk")
    assert data.decode("gb18030")  # really GBK bytes, not UTF-8
    job_id = full_import(client, csrf, "customer", data, MAPPING)
    assert load_job(system_session, job_id).encoding == "gb18030"
    _check_imported(system_session, org, job_id)


def test_gb18030_only_characters(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    rows = [HEADER, ["𠀀记商行", "1", "上海", ""], ROWS[1]]  # U+20000 exists in GB18030, not in GBK
    job_id = full_import(client, csrf, "customer", csv_bytes(rows, encoding="gb18030"), MAPPING)
    assert "𠀀记商行" in _customers(system_session)
    assert load_job(system_session, job_id).created == 2


def test_xlsx(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    rows = [HEADER, ROWS[0], ["北京测试科技", 13800138000, "北京", "b@example.com"]]  # a phone typed as number
    job_id = full_import(client, csrf, "customer", xlsx_bytes(rows), MAPPING, filename="customers.xlsx")
    assert load_job(system_session, job_id).file_format == "xlsx"
    _check_imported(system_session, org, job_id)


def test_headers_are_suggested_in_chinese_and_english(org, client_as, csrf):
    client = client_as(org.rep_east)
    response = upload(client, csrf, "customer", csv_bytes([["Name", "电话", "城市", "nonsense"], ROWS[0]]))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    selects = dict(re.findall(r'name="col_(\d)">(.*?)</select>', html, re.S))
    selected = {i: m.group(1) for i, body in selects.items() if (m := re.search(r'value="(\w+)" selected', body))}
    assert selected == {"0": "name", "1": "phone", "2": "city"}


def test_audit_entries_one_per_record(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    full_import(client, csrf, "customer", csv_bytes([HEADER, *ROWS]), MAPPING)
    entries = system_session.execute(select(AuditEntry).where(AuditEntry.action == "import")).scalars().all()
    assert len(entries) == 2 and {e.user_id for e in entries} == {org.rep_east.id}
    assert any(e.changes.get("city") == [None, "上海"] for e in entries)


def test_custom_fields_are_import_targets(app, gx, org, client_as, csrf, system_session):
    from core.customfields import service as custom_fields
    with app.app_context(), gx.system_session("test: custom field") as s:
        key = custom_fields.create_field(s, "customer", {"type": "integer", "label_en": "Employees",
                                                         "label_zh": "员工人数"}).key
        s.commit()
    client = client_as(org.rep_east)
    rows = [["名称", "员工人数"], ["大公司", "1200"], ["坏数字", "很多"]]
    job_id = full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: f"custom.{key}"})
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (1, 1)
    assert _customers(system_session)["大公司"].custom == {key: 1200}
    assert "Employees:" in client.get(f"/import/customer/{job_id}/errors.csv").get_data(as_text=True)


def test_imported_records_enter_the_search_index_and_leave_it_on_undo(org, client_as, csrf, system_session):
    from core.search.models import SearchToken

    client = client_as(org.rep_east)
    job_id = full_import(client, csrf, "customer", csv_bytes([HEADER, *ROWS]), MAPPING)
    ids = [c.id for c in _customers(system_session).values()]

    def tokens():
        system_session.commit()  # a fresh snapshot
        return set(system_session.execute(select(SearchToken.record_id, SearchToken.token).where(
            SearchToken.entity == "customer", SearchToken.record_id.in_(ids))).all())

    indexed = tokens()
    assert {record_id for record_id, _token in indexed} == set(ids)
    assert any("13800138000" in token for _id, token in indexed)
    token = csrf(client, f"/import/customer/{job_id}")
    assert client.post(f"/import/customer/{job_id}/undo", data={"csrf_token": token}).status_code == 302
    assert tokens() == set()  # in the recycle bin: no longer found


def test_search_finds_every_imported_row_once_the_job_is_done(gx, org, client_as, csrf, system_session,
                                                              monkeypatch):
    """The batches only write the records; a follow-up step of the same job ("indexing") adds them to the
    search index. The job is "done" only after it: then the search box finds every row of the file, within
    the importer's scope (and nobody else's)."""
    from core import search
    from core.imports import service
    from core.scope import build_user_scope

    seen = []
    index_step = service._index

    def watched(session, spec, job, ids):
        seen.append((job.status, len(ids), _token_count(session, ids)))
        index_step(session, spec, job, ids)
    monkeypatch.setattr(service, "_index", watched)
    monkeypatch.setattr(service, "INDEX_CHUNK", 7)  # several index transactions
    rows = [[f"导入搜索{i}号贸易有限公司", f"139{i:08d}", "杭州", f"search{i}@example.com"] for i in range(25)]
    job_id = full_import(client_as(org.rep_east), csrf, "customer", csv_bytes([HEADER, *rows]), MAPPING)
    job = load_job(system_session, job_id)
    assert (job.status, job.created, job.message) == ("done", 25, None)
    assert seen == [("indexing", 25, 0)]  # committed, not yet searchable, when the index step began

    def found(user, term):
        session = gx.new_session()
        session.info["scope"] = build_user_scope(session, user, gx.entities, gx.hook)
        try:
            return {hit.record.name for group in search.search(session, term, search.providers(gx))
                    if group.spec.name == "customer" for hit in group.hits}
        finally:
            session.close()

    for i in (0, 13, 24):
        name = f"导入搜索{i}号贸易有限公司"
        for term in (f"搜索{i}号", f"daorusousuo{i}", f"search{i}@example.com", f"139{i:08d}"[-6:]):
            assert name in found(org.rep_east, term), term
    assert found(org.rep_west, "导入搜索") == set()  # another department's salesperson: not in his scope
    ids = [c.id for c in _customers(system_session).values() if c.name.startswith("导入搜索")]
    assert _token_count(system_session, ids) > 25 * 10


def _token_count(session, ids):
    from sqlalchemy import func

    from core.search.models import SearchToken
    session.commit()  # a fresh snapshot (MariaDB's REPEATABLE READ)
    return session.execute(select(func.count()).select_from(SearchToken).where(
        SearchToken.entity == "customer", SearchToken.record_id.in_(ids))).scalar()


def test_a_failing_search_index_keeps_the_import_and_says_so(org, client_as, csrf, system_session, monkeypatch):
    """Should the index step fail, the records stay imported and undoable; the job says search needs a
    rebuild instead of pretending every row can be found."""
    from sqlalchemy.exc import OperationalError

    from core.imports import service

    def broken(*_args, **_kwargs):
        raise OperationalError("INSERT INTO search_token ...", {}, Exception("disk full"))
    monkeypatch.setattr(service, "reindex", broken)
    job_id = full_import(client_as(org.rep_east), csrf, "customer", csv_bytes([HEADER, *ROWS]), MAPPING)
    job = load_job(system_session, job_id)
    assert (job.status, job.created) == ("done", 2)
    assert "search index" in job.message
    page = client_as(org.rep_east).get(f"/import/customer/{job_id}").get_data(as_text=True)
    assert "search index" in page and "Undo this import" in page


def test_the_job_page_shows_the_indexing_step_and_keeps_polling(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    job_id = full_import(client, csrf, "customer", csv_bytes([HEADER, *ROWS]), MAPPING)
    job = load_job(system_session, job_id)
    job.status = "indexing"  # as the job leaves it between its batches and the end of the index step
    system_session.commit()
    page = client.get(f"/import/customer/{job_id}/status").get_data(as_text=True)
    assert 'data-status="indexing"' in page and "Indexing for search" in page
    assert "hx-trigger" in page  # still polling
    assert "Undo this import" not in page  # undo only once the job is done


def test_rows_committed_before_a_failure_are_still_indexed(org, client_as, csrf, system_session, monkeypatch):
    from core.imports import engine, service

    monkeypatch.setattr(service, "BATCH_SIZE", 2)
    process = engine.Importer.process
    calls = []

    def failing_second_batch(self, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("the worker lost its file system")
        return process(self, batch)
    monkeypatch.setattr(engine.Importer, "process", failing_second_batch)
    rows = [[f"半途{i}公司", f"1370000000{i}", "上海", f"half{i}@example.com"] for i in range(4)]
    job_id = full_import(client_as(org.rep_east), csrf, "customer", csv_bytes([HEADER, *rows]), MAPPING)
    job = load_job(system_session, job_id)
    assert (job.status, job.created) == ("failed", 2)
    ids = [c.id for c in _customers(system_session).values() if c.name.startswith("半途")]
    assert len(ids) == 2 and _token_count(system_session, ids) > 2 * 10
