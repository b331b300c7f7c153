"""Import: unique and reference custom fields, tags (names separated by , ， 、 ; ；)."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.imports import service
from core.models import AuditEntry, Customer, Tag
from core.testing.factories import make_record
from tests.core.import_helpers import csv_bytes, full_import, job_id_of, load_job, map_columns, run, upload


def _field(app, gx, **values) -> str:
    from core.customfields import service as custom_fields
    with app.app_context(), gx.system_session("test: custom field") as s:
        key = custom_fields.create_field(s, "customer", values).key
        s.commit()
    return key


def _existing(gx, session, owner, name, **values):
    record, _ = make_record(session, gx.entities["customer"], owner, gx.entities, mark=name)
    record.name = name
    for key, value in values.items():
        setattr(record, key, value)
    session.commit()
    return record


def _customers(session) -> dict:
    session.commit()  # a fresh snapshot (MariaDB REPEATABLE READ)
    return {c.name: c for c in session.execute(select(Customer).execution_options(populate_existing=True))
            .unique().scalars()}


def _report(client, job_id) -> str:
    return client.get(f"/import/customer/{job_id}/errors.csv").get_data(as_text=True)


def test_unique_custom_field_within_the_file_and_against_the_database(app, gx, org, client_as, csrf,
                                                                      system_session, monkeypatch):
    key = _field(app, gx, type="text", label_en="Tax number", label_zh="税号", unique=True)
    # another department's customer: invisible to the importer, its value is taken all the same
    _existing(gx, system_session, org.rep_west, "西区客户", custom={key: "T-1"})
    monkeypatch.setattr(service, "BATCH_SIZE", 2)  # in-file repeats are caught across batches too
    client = client_as(org.rep_east)
    rows = [["名称", "税号"], ["甲", "T-1"], ["乙", "T-2"], ["丙", "T-3"], ["丁", "T-2"], ["戊", ""]]
    job = load_job(system_session, full_import(client, csrf, "customer", csv_bytes(rows),
                                               {0: "name", 1: f"custom.{key}"}))
    assert (job.created, job.failed) == (3, 2)
    customers = _customers(system_session)
    assert customers["乙"].custom == {key: "T-2"} and customers["丙"].custom == {key: "T-3"}
    assert "甲" not in customers and "丁" not in customers and "戊" in customers
    report = _report(client, job.id)
    assert "Tax number: This value is already used." in report
    assert re.search(r"Tax number: The same value as row 3 of this file\.", report), report
    assert "西区客户" not in report  # the answer never names the other record


def test_unique_custom_field_lets_an_updated_record_keep_its_own_value(app, gx, org, client_as, csrf,
                                                                      system_session):
    key = _field(app, gx, type="integer", label_en="Member number", label_zh="会员号", unique=True)
    mine = _existing(gx, system_session, org.rep_east, "老会员", email="m@example.com", custom={key: 7})
    _existing(gx, system_session, org.rep_east, "别人", email="o@example.com", custom={key: 8})
    client = client_as(org.rep_east)
    # the first row takes the number of the second row's record: refused; the second keeps its own number
    rows = [["名称", "E-mail", "会员号"], ["别人新名", "o@example.com", "7"], ["老会员新名", "m@example.com", "7"]]
    job = load_job(system_session, full_import(client, csrf, "customer", csv_bytes(rows),
                                               {0: "name", 1: "email", 2: f"custom.{key}"},
                                               match="email", duplicates="update"))
    assert (job.updated, job.failed) == (1, 1)
    assert _customers(system_session)["老会员新名"].id == mine.id
    assert "Member number: This value is already used." in _report(client, job.id)


def test_custom_reference_must_be_visible_to_the_importer(app, gx, org, client_as, csrf, system_session):
    key = _field(app, gx, type="customer", label_en="Parent company", label_zh="上级公司")
    own = _existing(gx, system_session, org.rep_east, "东区母公司")
    foreign = _existing(gx, system_session, org.rep_west, "西区母公司")
    client = client_as(org.rep_east)
    rows = [["名称", "上级公司"], ["子公司一", str(own.id)], ["子公司二", str(foreign.id)]]
    job = load_job(system_session, full_import(client, csrf, "customer", csv_bytes(rows),
                                               {0: "name", 1: f"custom.{key}"}))
    assert (job.created, job.failed) == (1, 1)
    assert _customers(system_session)["子公司一"].custom == {key: own.id}
    assert "Parent company: Not found." in _report(client, job.id)


def test_tags_are_linked_and_missing_ones_created_once(org, client_as, csrf, system_session, monkeypatch):
    system_session.add(Tag(name="老客户"))
    system_session.commit()
    monkeypatch.setattr(service, "BATCH_SIZE", 1)  # "重点" is created by the first batch, reused by the next
    client = client_as(org.rep_east)
    rows = [["名称", "标签"], ["甲", "老客户、重点"], ["乙", "重点，华东;VIP；重点"], ["丙", ""],
            ["丁", "x" * 51]]
    job_id = full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: "tags"})
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (3, 1)
    customers = _customers(system_session)
    assert {t.name for t in customers["甲"].tags} == {"老客户", "重点"}
    assert {t.name for t in customers["乙"].tags} == {"重点", "华东", "VIP"}
    assert customers["丙"].tags == []
    names = system_session.execute(select(Tag.name)).scalars().all()
    assert sorted(names) == sorted(["老客户", "重点", "华东", "VIP"])
    entry = system_session.execute(select(AuditEntry).where(AuditEntry.record_id == customers["乙"].id,
                                                            AuditEntry.action == "import")).scalar_one()
    assert entry.changes["tags"] == [None, ["重点", "华东", "VIP"]]
    assert "A tag has at most 50 characters" in _report(client, job_id)


def test_missing_tags_are_refused_when_the_import_may_not_create_them(org, client_as, csrf, system_session):
    system_session.add(Tag(name="已有"))
    system_session.commit()
    client = client_as(org.rep_east)
    job_id = job_id_of(upload(client, csrf, "customer", csv_bytes([["名称", "标签"], ["甲", "已有"],
                                                                   ["乙", "已有,新标签"]])))
    mapping_page = client.get(f"/import/customer/{job_id}/mapping").get_data(as_text=True)
    assert 'name="new_tags"' in mapping_page  # the importer chooses on the mapping page
    assert map_columns(client, csrf, "customer", job_id, {0: "name", 1: "tags"},
                       new_tags="refuse").status_code == 302
    assert run(client, csrf, "customer", job_id).status_code == 302
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (1, 1)
    assert system_session.execute(select(Tag.name)).scalars().all() == ["已有"]
    assert "Unknown tags (you may not create tags in this import): 新标签" in _report(client, job_id)


def test_update_adds_tags_and_undo_takes_them_back(gx, org, client_as, csrf, system_session):
    old_tag = Tag(name="老")
    system_session.add(old_tag)
    record = _existing(gx, system_session, org.rep_east, "有标签的客户", email="t@example.com")
    record.tags = [old_tag]
    system_session.commit()
    client = client_as(org.rep_east)
    rows = [["名称", "E-mail", "标签"], ["有标签的客户", "t@example.com", "新、老"]]
    job_id = full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: "email", 2: "tags"},
                         match="email", duplicates="update")
    assert load_job(system_session, job_id).updated == 1
    assert {t.name for t in _customers(system_session)["有标签的客户"].tags} == {"老", "新"}
    token = csrf(client, f"/import/customer/{job_id}")
    assert client.post(f"/import/customer/{job_id}/undo", data={"csrf_token": token}).status_code == 302
    assert load_job(system_session, job_id).status == "undone"
    assert {t.name for t in _customers(system_session)["有标签的客户"].tags} == {"老"}
