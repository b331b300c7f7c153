"""CSV export: same rows as the list, streamed, Excel-friendly and safe against formula injection."""
from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest

from core.models import Customer, Product
from core.web.export import defuse_formula
from core.web.responses import content_disposition

INJECTIONS = [" =1+1", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1", "\u00a0=1+1", ";=1+1",
              "\u202e=1+1", "\uff1d1+1"]


def make_customer(session, owner, name, **fields):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **fields)
    session.add(record)
    session.commit()
    return record


def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text))), text


@pytest.mark.parametrize("payload", INJECTIONS)
def test_formula_like_text_is_prefixed(payload):
    assert defuse_formula(payload) == "'" + payload


@pytest.mark.parametrize("harmless", ["Acme", "华为 =1", "a-b", "", "  plain", "1+1"])
def test_ordinary_text_is_left_alone(harmless):
    assert defuse_formula(harmless) == harmless


def test_export_defuses_the_injection_corpus_and_quotes_every_cell(org, client_as, system_session):
    for i, payload in enumerate(INJECTIONS):
        make_customer(system_session, org.boss, payload, city=payload, code=f"C{i}")
    response = client_as(org.boss).get("/r/customer/export.csv")
    assert response.status_code == 200
    rows, text = read_csv(response)
    header, body = rows[0], rows[1:]
    name_col, city_col = header.index("Name"), header.index("City")
    assert sorted(row[name_col] for row in body) == sorted("'" + p for p in INJECTIONS)
    assert all(row[city_col].startswith("'") for row in body)
    for line in text.strip("\r\n").split("\r\n"):
        assert line.startswith('"') and line.endswith('"')  # csv.QUOTE_ALL


def test_export_headers_labels_and_scope(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "East Export 东", status="intention")
    make_customer(system_session, org.rep_east_sub, "Sub Export")
    make_customer(system_session, org.rep_west, "West Export")
    response = client_as(org.manager_east).get("/r/customer/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''Customers-" in disposition
    rows, _text = read_csv(response)
    assert rows[0][:2] == ["ID", "Name"] and "Owner" in rows[0]
    names = {row[1] for row in rows[1:]}
    assert names == {"East Export 东", "Sub Export"}
    east = next(row for row in rows[1:] if row[1] == "East Export 东")
    assert "Intention" in east and "张三 Zhang San" in east


def test_export_follows_the_list_filters_and_every_page(org, client_as, system_session, monkeypatch):
    import core.web.export as export
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    for i in range(5):
        make_customer(system_session, org.boss, f"Batch {i}", status="closed")
    make_customer(system_session, org.boss, "Other status", status="potential")
    client = client_as(org.boss)
    rows, _ = read_csv(client.get("/r/customer/export.csv?f_status=closed&sort=name&limit=1"))
    assert [row[1] for row in rows[1:]] == [f"Batch {i}" for i in range(5)]
    rows, _ = read_csv(client.get("/r/customer/export.csv?q=Other"))
    assert [row[1] for row in rows[1:]] == ["Other status"]


def test_export_needs_the_export_permission(org, client_as):
    assert client_as(org.rep_east).get("/r/customer/export.csv").status_code == 403


def test_product_cost_only_in_procurement_exports(org, client_as, system_session):
    system_session.add(Product(code="X-1", name="Valve", price=10, cost=3.25))
    system_session.commit()
    rows, _ = read_csv(client_as(org.procurement).get("/r/product/export.csv"))
    assert "Purchase cost" in rows[0] and "3.25" in rows[1]
    from sqlalchemy import select
    from core.models import Role, RoleGrant
    role = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    role.grants.append(RoleGrant(permission="core.product.export", level="all"))
    system_session.commit()
    rows, text = read_csv(client_as(org.rep_east).get("/r/product/export.csv?sort=-cost"))
    assert "Purchase cost" not in rows[0] and "3.25" not in text and "Valve" in text


def test_content_disposition_cannot_be_broken_by_a_filename():
    header = content_disposition('客户 "a"\r\nSet-Cookie: x=1;.csv')
    assert "\r" not in header and "\n" not in header
    ascii_part = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in ascii_part and ascii_part.endswith(".csv")
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == '客户 "a"Set-Cookie: x=1;.csv'
