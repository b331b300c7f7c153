"""Module builder rules: deactivation keeps values, compatible type changes only, unique (global, no oracle),
required and options, references within the saver's scope, server-generated keys, the definitions stamp seen
by another app process without a restart, and the customisation export/import (idempotent)."""
from __future__ import annotations

import contextlib
import json
import re

import pytest
from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from core.customfields import export_columns, registry, schema_for, searchable_keys, service
from core.customfields.models import CustomFieldDef
from core.customfields.types import FieldType
from hooks import hookimpl
from core.models import Customer
from tests.core.customfields_helpers import (
    add_field_via_admin, drop_all_indexes, field_errors, field_row, make_customer,
)


@pytest.fixture(autouse=True)
def _clean_indexes(app):
    yield
    drop_all_indexes(app)


@contextlib.contextmanager
def service_session(gx, app):
    """A system session inside an app context (the services read the running app's registries); never
    around test-client requests, which would share the context's ``g``."""
    with app.app_context(), gx.system_session("test") as session:
        yield session


def _create(app, entity="customer", **values):
    with service_session(app.extensions["guanxi"], app) as s:
        return service.create_field(s, entity, {"type": "text", "label_en": "Field", **values}).key


def test_key_is_a_server_slug_never_the_label(app, org, client_as, csrf, system_session):
    key = add_field_via_admin(client_as(org.admin), csrf, label_en="<script>alert(1)</script>", label_zh="税号")
    assert key.startswith("cf_") and len(key) == 9 and key[3:].isalnum()
    html = client_as(org.admin).get("/admin/customfields/customer").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    admin = client_as(org.admin)
    row = field_row(system_session, key)
    token = csrf(admin, f"/admin/customfields/field/{row.id}/edit")
    admin.post(f"/admin/customfields/field/{row.id}/edit", data={"csrf_token": token, "type": "text",
                                                                "label_en": "Renamed", "key": "cf_evil"})
    assert field_row(system_session, key).label_en == "Renamed"
    assert system_session.execute(select(CustomFieldDef).where(CustomFieldDef.key == "cf_evil")).first() is None


def test_deactivate_hides_everywhere_keeps_values_and_reactivates(app, gx, org, client_as, csrf, api_as,
                                                                  system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, label_en="Nickname", show_in_list="on", filterable="on")
    record = make_customer(system_session, org.rep_east, "Kept Co", custom={key: "kept-value"})
    row = field_row(system_session, key)
    token = csrf(admin, "/admin/customfields/customer")
    assert admin.post(f"/admin/customfields/field/{row.id}/active",
                      data={"csrf_token": token, "active": "0"}).status_code == 302
    rep = client_as(org.rep_east)
    for url in (f"/r/customer/{record.id}", "/r/customer/", f"/r/customer/{record.id}/edit"):
        assert "kept-value" not in rep.get(url).get_data(as_text=True), url
    api = api_as(org.rep_east)
    assert key not in api.get(f"/api/v1/customer/{record.id}").get_json()["custom"]
    refused = api.patch(f"/api/v1/customer/{record.id}", json={"custom": {key: "new"}})
    assert refused.status_code == 422
    # an edit without the field keeps the hidden value
    assert api.patch(f"/api/v1/customer/{record.id}", json={"name": "Kept Co 2"}).status_code == 200
    system_session.expire_all()
    assert system_session.get(Customer, record.id).custom[key] == "kept-value"

    admin.post(f"/admin/customfields/field/{row.id}/active", data={"csrf_token": token, "active": "1"})
    assert "kept-value" in rep.get(f"/r/customer/{record.id}").get_data(as_text=True)
    assert api.get(f"/api/v1/customer/{record.id}").get_json()["custom"][key] == "kept-value"


def test_type_changes_only_between_compatible_types(app, gx, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, type="integer", label_en="Count")
    row = field_row(system_session, key)
    url = f"/admin/customfields/field/{row.id}/edit"
    token = csrf(admin, url)
    refused = admin.post(url, data={"csrf_token": token, "type": "date", "label_en": "Count"})
    assert refused.status_code == 422 and "compatible" in field_errors_admin(refused)
    assert field_row(system_session, key).type == "integer"
    assert admin.post(url, data={"csrf_token": token, "type": "decimal", "label_en": "Count"}).status_code == 302
    assert field_row(system_session, key).type == "decimal"
    with service_session(gx, app) as s, pytest.raises(ValidationError):
        service.update_field(s, row.id, {"type": "text", "label_en": "Count"})


def field_errors_admin(response) -> str:
    return response.get_data(as_text=True)


def test_unique_is_global_and_says_only_already_used(app, gx, org, client_as, csrf, api_as, system_session):
    key = add_field_via_admin(client_as(org.admin), csrf, label_en="Tax number", unique="on")
    make_customer(system_session, org.rep_west, "West Holder", custom={key: "TAX-1"})  # invisible to rep_east
    api = api_as(org.rep_east)
    clash = api.post("/api/v1/customer", json={"name": "Copy", "custom": {key: "TAX-1"}})
    assert clash.status_code == 422
    body = json.dumps(clash.get_json(), ensure_ascii=False).replace(key, "<key>")
    assert "already used" in body and "West Holder" not in body
    assert not re.search(rf"(?<![0-9]){org.rep_west.id}(?![0-9])", body)  # no id of the holder either
    own = api.post("/api/v1/customer", json={"name": "Own", "custom": {key: "TAX-2"}})
    assert own.status_code == 201
    # saving a record with its own value again is not a clash
    assert api.patch(f"/api/v1/customer/{own.get_json()['id']}", json={"custom": {key: "TAX-2"}}).status_code == 200
    rep = client_as(org.rep_east)
    form = {"csrf_token": csrf(rep, "/r/customer/new"), "name": "Web Copy", "kind": "company",
            "status": "potential", key: "TAX-1"}
    response = rep.post("/r/customer/new", data=form)
    assert response.status_code == 422 and "already used" in field_errors(response.get_data(as_text=True), key)


def test_references_must_be_visible_to_the_saver(app, gx, org, client_as, csrf, api_as, system_session):
    key = add_field_via_admin(client_as(org.admin), csrf, type="customer", label_en="Parent company")
    hidden = make_customer(system_session, org.rep_west, "West Secret")
    visible = make_customer(system_session, org.rep_east, "East Parent")
    api = api_as(org.rep_east)
    refused = api.post("/api/v1/customer", json={"name": "Child", "custom": {key: hidden.id}})
    missing = api.post("/api/v1/customer", json={"name": "Child", "custom": {key: 2**31 - 2}})
    assert refused.status_code == missing.status_code == 422
    assert refused.get_json()["fields"] == missing.get_json()["fields"]  # out of scope answers like missing
    ok = api.post("/api/v1/customer", json={"name": "Child", "custom": {key: visible.id}})
    assert ok.status_code == 201
    detail = client_as(org.rep_east).get(f"/r/customer/{ok.get_json()['id']}").get_data(as_text=True)
    assert "East Parent" in detail and f"/r/customer/{visible.id}" in detail


def test_required_default_and_select_options(app, gx, org, api_as):
    key = _create(app, type="select", label_en="Tier", required=True, default_value="gold",
                  options=[{"value": "gold", "label_en": "Gold"}, {"value": "silver", "label_en": "Silver"}])
    api = api_as(org.rep_east)
    created = api.post("/api/v1/customer", json={"name": "Defaulted"})
    assert created.status_code == 201 and created.get_json()["custom"][key] == "gold"
    assert api.post("/api/v1/customer", json={"name": "Wrong", "custom": {key: "bronze"}}).status_code == 422
    assert api.post("/api/v1/customer", json={"name": "Blank", "custom": {key: ""}}).status_code == 422
    with service_session(gx, app) as s:
        with pytest.raises(ValidationError):
            service.create_field(s, "customer", {"type": "select", "label_en": "No options"})
        with pytest.raises(ValidationError):
            service.create_field(s, "customer", {"type": "select", "label_en": "Bad default", "default_value": "x",
                                                 "options": [{"value": "a"}]})
        with pytest.raises(ValidationError):
            service.create_field(s, "customer", {"type": "textarea", "label_en": "Index", "indexed": True})
        with pytest.raises(ValidationError):
            service.create_field(s, "customer", {"type": "text"})  # no label at all


def test_another_process_sees_new_fields_without_restart(app, app_with, gx, org, api_as):
    other = app_with()  # a second app process on the same database, already warmed up
    other_api = api_as(org.rep_east, other)
    assert other_api.get("/api/v1/customer").status_code == 200
    key = _create(app, label_en="Late field", filterable=True)  # changed through the first "process"
    created = other_api.post("/api/v1/customer", json={"name": "Seen", "custom": {key: "yes"}})
    assert created.status_code == 201 and created.get_json()["custom"] == {key: "yes"}


def test_helpers_for_export_and_search(app, gx, org, system_session):
    text_key = _create(app, label_en="Nick", label_zh="昵称")
    number_key = _create(app, type="integer", label_en="Staff")
    select_key = _create(app, type="select", label_en="Tier", options=[{"value": "g", "label_en": "Gold"}])
    record = make_customer(system_session, org.rep_east, "Helper", custom={text_key: "n", number_key: 7,
                                                                           select_key: "g"})
    spec = gx.entities["customer"]
    with app.test_request_context():
        columns = {key: (label, getter(record)) for key, label, getter in
                   export_columns(spec, None, session=system_session)}
        assert columns[text_key] == ("Nick", "n") and columns[number_key] == ("Staff", "7")
        assert columns[select_key] == ("Tier", "Gold")
        assert searchable_keys(spec, session=system_session) == [text_key]
        schema = schema_for(spec, None, session=system_session)
        assert set(schema.fields["custom"].nested._declared_fields) == {text_key, number_key, select_key}


def test_customisation_export_import_is_idempotent(app, gx, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    first = add_field_via_admin(admin, csrf, type="select", label_en="Region", section="Sales",
                                options="n | 北 | North", filterable="on")
    second = add_field_via_admin(admin, csrf, type="integer", label_en="Staff", entity="contact")
    document = admin.get("/admin/customfields/export.json").get_json()
    assert {f["key"] for f in document["fields"]} == {first, second}

    # "production": an empty system imports it, twice
    with service_session(gx, app) as s:
        for row in s.execute(select(CustomFieldDef)).scalars():
            s.delete(row)
        registry.bump_stamp(s)
        s.commit()
        assert service.import_document(s, document) == {"created": 2, "updated": 0, "unchanged": 0}
        assert service.import_document(s, document) == {"created": 0, "updated": 0, "unchanged": 2}
        again = service.export_document(s)
    strip = lambda doc: [{k: v for k, v in f.items() if k not in ("created_at", "updated_at")}
                         for f in doc["fields"]]
    assert strip(again) == strip(document)

    changed = json.loads(json.dumps(document))
    next(f for f in changed["fields"] if f["key"] == first)["label_en"] = "Area"
    upload = {"csrf_token": csrf(admin, "/admin/customfields"),
              "file": (__import__("io").BytesIO(json.dumps(changed).encode()), "defs.json")}
    assert admin.post("/admin/customfields/import", data=upload,
                      content_type="multipart/form-data").status_code == 302
    assert field_row(system_session, first).label_en == "Area"
    bad = {"csrf_token": csrf(admin, "/admin/customfields"),
           "file": (__import__("io").BytesIO(b'{"format": "other"}'), "defs.json")}
    html = admin.post("/admin/customfields/import", data=bad, content_type="multipart/form-data",
                      follow_redirects=True).get_data(as_text=True)
    assert "Nothing was imported" in html


def test_cli_export_import(app, gx, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from core import cli
    _create(app, label_en="CLI field")
    monkeypatch.setattr(cli, "make_app", lambda: app)
    monkeypatch.setattr(gx.engine, "dispose", lambda: None)
    target = tmp_path / "defs.json"
    runner = CliRunner()
    result = runner.invoke(cli.main, ["customfields", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))["fields"][0]["label_en"] == "CLI field"
    result = runner.invoke(cli.main, ["customfields", "import", str(target)])
    assert result.exit_code == 0 and "0 new, 0 changed, 1 unchanged" in result.output


class ColourType(FieldType):
    """A plugin's extra type: a CSS hex colour."""

    key, label = "colour", "Colour"

    def inner_field(self, fdef):
        return fields.String(validate=validate.Regexp(r"^#[0-9a-f]{6}$"))


class ColourPlugin:
    @hookimpl
    def custom_field_types(self):
        return [ColourType()]


def test_plugin_types_through_the_hook(register_plugin, org, api_as):
    other = register_plugin(ColourPlugin(), name="colours")
    key = _create(other, type="colour", label_en="Brand colour")
    api = api_as(org.rep_east, other)
    assert api.post("/api/v1/customer", json={"name": "Red", "custom": {key: "#ff0000"}}).status_code == 201
    assert api.post("/api/v1/customer", json={"name": "Bad", "custom": {key: "red"}}).status_code == 422
