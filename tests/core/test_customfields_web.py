"""Module builder, end to end: a field added on the admin page appears — with no new app and no restart — in
the form (validated, error at the field, in its section), the detail page, list columns, filters and sort,
the REST API and the OpenAPI document, the CSV export and the audit trail."""
from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.models import Customer
from tests.core.customfields_helpers import (
    add_field_via_admin, drop_all_indexes, field_errors, make_customer,
)


@pytest.fixture(autouse=True)
def _clean_indexes(app):
    yield
    drop_all_indexes(app)


def _new_customer(client, csrf, name, **custom):
    form = {"csrf_token": csrf(client, "/r/customer/new"), "name": name, "kind": "company",
            "status": "potential", **custom}
    return client.post("/r/customer/new", data=form)


def test_new_field_in_form_detail_list_filter_sort_and_audit(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, type="select", label_en="Region", label_zh="大区", required="on",
                              filterable="on", show_in_list="on", section="Sales data",
                              options="north | 华北 | North\nsouth | 华南 | South")
    rep = client_as(org.rep_east)

    form = rep.get("/r/customer/new").get_data(as_text=True)
    assert f'name="{key}"' in form and "Sales data" in form and "North" in form

    refused = _new_customer(rep, csrf, "No region")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "This field is required" in field_errors(html, key)
    assert 'value="No region"' in html  # what the user typed is kept
    wrong = _new_customer(rep, csrf, "Bad region", **{key: "west"})
    assert wrong.status_code == 422 and field_errors(wrong.get_data(as_text=True), key).strip()

    assert _new_customer(rep, csrf, "Alpha North", **{key: "north"}).status_code == 302
    assert _new_customer(rep, csrf, "Beta South", **{key: "south"}).status_code == 302
    alpha = system_session.execute(select(Customer).where(Customer.name == "Alpha North")).scalar_one()
    assert alpha.custom == {key: "north"}

    detail = rep.get(f"/r/customer/{alpha.id}").get_data(as_text=True)
    assert "Region" in detail and "North" in detail and "Sales data" in detail

    listing = rep.get("/r/customer/").get_data(as_text=True)
    assert f'data-column="{key}"' in listing and "North" in listing and "South" in listing
    filtered = rep.get(f"/r/customer/?f_{key}=south").get_data(as_text=True)
    assert "Beta South" in filtered and "Alpha North" not in filtered
    ascending = rep.get(f"/r/customer/?sort={key}").get_data(as_text=True)
    assert ascending.index("Alpha North") < ascending.index("Beta South")
    descending = rep.get(f"/r/customer/?sort=-{key}").get_data(as_text=True)
    assert descending.index("Beta South") < descending.index("Alpha North")

    edit_form = {"csrf_token": csrf(rep, f"/r/customer/{alpha.id}/edit"), "name": "Alpha North",
                 "kind": "company", "status": "potential", key: "south", "version": "1"}
    assert rep.post(f"/r/customer/{alpha.id}/edit", data=edit_form).status_code == 302
    history = rep.get(f"/r/customer/{alpha.id}").get_data(as_text=True)
    audit_html = history[history.index('id="audit"'):]
    assert "Region" in audit_html and "North" in audit_html and "South" in audit_html


def test_every_core_type_saves_and_displays(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    keys = {
        "text": add_field_via_admin(admin, csrf, type="text", label_en="Nickname"),
        "integer": add_field_via_admin(admin, csrf, type="integer", label_en="Employees"),
        "money": add_field_via_admin(admin, csrf, type="money", label_en="Budget"),
        "date": add_field_via_admin(admin, csrf, type="date", label_en="Founded"),
        "datetime": add_field_via_admin(admin, csrf, type="datetime", label_en="Last visit"),
        "boolean": add_field_via_admin(admin, csrf, type="boolean", label_en="Key account"),
        "multiselect": add_field_via_admin(admin, csrf, type="multiselect", label_en="Products",
                                           options="a | 甲 | Alpha\nb | 乙 | Beta\nc | 丙 | Gamma"),
        "url": add_field_via_admin(admin, csrf, type="url", label_en="Shop"),
        "email": add_field_via_admin(admin, csrf, type="email", label_en="Invoice mail"),
        "phone": add_field_via_admin(admin, csrf, type="phone", label_en="Hotline"),
        "user": add_field_via_admin(admin, csrf, type="user", label_en="Account manager"),
        "textarea": add_field_via_admin(admin, csrf, type="textarea", label_en="Background"),
    }
    rep = client_as(org.rep_east)
    form = {"csrf_token": csrf(rep, "/r/customer/new"), "name": "Typed", "kind": "company", "status": "potential",
            keys["text"]: "Ali", keys["integer"]: "42", keys["money"]: "1234.5", keys["date"]: "2024-05-01",
            keys["datetime"]: "2024-05-01T09:30", keys["boolean"]: "on", keys["url"]: "https://shop.example.com",
            keys["email"]: "Bill@Example.com", keys["phone"]: "+86 10 1234 5678", keys["user"]: str(org.boss.id),
            keys["textarea"]: "line one\nline two"}
    response = rep.post("/r/customer/new", data={**form, keys["multiselect"]: ["c", "a"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    record = system_session.execute(select(Customer).where(Customer.name == "Typed")).scalar_one()
    stored = record.custom
    assert stored[keys["integer"]] == 42 and stored[keys["money"]] == "1234.50"
    local = dt.datetime(2024, 5, 1, 9, 30, tzinfo=ZoneInfo(app.config.get("TIMEZONE") or "UTC"))
    utc = local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stored[keys["date"]] == "2024-05-01" and stored[keys["datetime"]] == utc
    assert stored[keys["boolean"]] is True and stored[keys["multiselect"]] == ["a", "c"]
    assert stored[keys["email"]] == "bill@example.com" and stored[keys["user"]] == org.boss.id
    detail = rep.get(f"/r/customer/{record.id}").get_data(as_text=True)
    for text in ("Ali", "1,234.50", "2024-05-01", "Alpha, Gamma", "Boss", "Yes", "shop.example.com"):
        assert text in detail, text

    bad = rep.post("/r/customer/new", data={**form, "name": "Bad", keys["integer"]: "many",
                                            keys["email"]: "not-mail", keys["date"]: "2024-13-45"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for name in ("integer", "email", "date"):
        assert field_errors(html, keys[name]).strip(), name
    assert 'value="many"' in html


def test_column_chooser_is_per_user(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, type="text", label_en="Nickname")  # not shown in lists by default
    make_customer(system_session, org.rep_east, "Chosen Co", custom={key: "chosen-nick"})
    rep = client_as(org.rep_east)
    assert "chosen-nick" not in rep.get("/r/customer/").get_data(as_text=True)
    token = csrf(rep, "/r/customer/")
    assert rep.post("/r/customer/columns", data={"csrf_token": token, "columns": ["name", key]}).status_code == 302
    html = rep.get("/r/customer/").get_data(as_text=True)
    assert "chosen-nick" in html and 'data-column="status"' not in html
    export = rep.get("/r/customer/export.csv")
    assert export.status_code in (200, 403)
    manager = client_as(org.manager_east)
    assert "chosen-nick" not in manager.get("/r/customer/").get_data(as_text=True)  # his own default columns
    rep.post("/r/customer/columns", data={"csrf_token": token, "reset": "1"})
    assert 'data-column="status"' in rep.get("/r/customer/").get_data(as_text=True)


def test_csv_export_has_custom_columns(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, type="select", label_en="Region", show_in_list="on",
                              options="north | 华北 | North")
    make_customer(system_session, org.rep_east, "Export Co", custom={key: "north"})
    response = client_as(org.manager_east).get("/r/customer/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    column = rows[0].index("Region")
    assert rows[1][column] == "North"


def _mentions(response, key) -> bool:
    """API field errors of nested values read ``"<key>: message"`` under ``fields.custom``."""
    return any(line.startswith(f"{key}: ") for line in response.get_json()["fields"].get("custom", []))


def test_api_and_openapi(app, org, client_as, csrf, api_as, system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, type="integer", label_en="Employees", filterable="on", required="on")
    api = api_as(org.rep_east)
    missing = api.post("/api/v1/customer", json={"name": "No staff"})
    assert missing.status_code == 422 and _mentions(missing, key)
    wrong = api.post("/api/v1/customer", json={"name": "Wrong", "custom": {key: "many"}})
    assert wrong.status_code == 422 and _mentions(wrong, key)
    unknown = api.post("/api/v1/customer", json={"name": "Stranger", "custom": {key: 3, "cf_nothere": 1}})
    assert unknown.status_code == 422 and _mentions(unknown, "cf_nothere") and not _mentions(unknown, key)
    for name, staff in (("Small", 5), ("Large", 500), ("Medium", 50)):
        created = api.post("/api/v1/customer", json={"name": name, "custom": {key: staff}})
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["custom"] == {key: staff}
    listed = api.get(f"/api/v1/customer?{key}=500").get_json()["items"]
    assert [item["name"] for item in listed] == ["Large"]
    ordered = api.get(f"/api/v1/customer?sort={key}&limit=2").get_json()
    assert [item["name"] for item in ordered["items"]] == ["Small", "Medium"]
    second = api.get(f"/api/v1/customer?sort={key}&limit=2&cursor={ordered['next_cursor']}").get_json()
    assert [item["name"] for item in second["items"]] == ["Large"]
    large = listed[0]
    patched = api.patch(f"/api/v1/customer/{large['id']}", json={"custom": {key: 501}})
    assert patched.status_code == 200 and patched.get_json()["custom"][key] == 501

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    custom_ref = document["components"]["schemas"]["Customer"]["properties"]["custom"]
    refs = [custom_ref.get("$ref")] + [part.get("$ref") for part in custom_ref.get("anyOf", [])]
    name = next(ref for ref in refs if ref).rsplit("/", 1)[-1]
    assert name == "CustomerCustomFields"
    prop = document["components"]["schemas"][name]["properties"][key]
    assert prop["type"] == "integer" and "Employees" in prop["description"]
    assert key in document["components"]["schemas"][name]["required"]
    params = {p["name"] for p in document["paths"]["/api/v1/customer"]["get"]["parameters"]}
    assert key in params


def test_admin_page_requires_permission_and_lists_entities(app, org, client_as, csrf):
    assert client_as(org.rep_east).get("/admin/customfields").status_code == 403
    html = client_as(org.admin).get("/admin/customfields").get_data(as_text=True)
    for entity in ("customer", "contact", "followup", "product"):
        assert f'data-entity="{entity}"' in html
    assert client_as(org.admin).get("/admin/customfields/nothing").status_code == 404
