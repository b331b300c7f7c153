"""OpenAPI document and docs page, and the promise behind them: a plugin's entity gets the whole REST API
from its EntitySpec alone, and only enabled, published entities are described or served."""
import html5lib
import pytest
from marshmallow import fields
from openapi_spec_validator import validate
from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.api.openapi import component_name
from core.db import SoftDeleteMixin, TimestampMixin, VersionedMixin
from core.entities import EntitySpec
from core.permissions import Permission, StockRole
from core.schemas import EntitySchema
from hooks import hookimpl

OPERATIONS = {"/api/v1/{name}": {"get", "post"}, "/api/v1/{name}/{{record_id}}": {"get", "patch", "delete"}}


def published(app):
    return [spec for spec in app.extensions["guanxi"].entities if spec.api]


def test_document_is_valid_and_complete(app):
    response = app.test_client().get("/api/v1/openapi.json")  # public: no token
    assert response.status_code == 200
    document = response.get_json()
    validate(document)  # raises on any structural error or dangling $ref
    assert document["openapi"] == "3.0.3"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Personal API token"}
    assert document["security"] == [{"bearerAuth": []}]
    schemas = document["components"]["schemas"]
    assert {"Error", "User", "UserPage", "Department", "DepartmentPage"} <= set(schemas)
    assert published(app), "core publishes its entities"
    for spec in published(app):
        name = component_name(spec.name)
        assert {name, f"{name}Patch", f"{name}Page"} <= set(schemas), spec.name
        for template, methods in OPERATIONS.items():
            path = template.format(name=spec.name)
            assert set(document["paths"][path]) - {"parameters"} == methods, path
    for path in ("/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/departments"):
        assert set(document["paths"][path]) == {"get"} or set(document["paths"][path]) == {"get", "parameters"}


def test_document_describes_the_real_contract(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    customer = document["components"]["schemas"]["Customer"]
    assert customer["additionalProperties"] is False and "name" in customer["required"]
    assert customer["properties"]["department_id"]["readOnly"] is True
    assert "required" not in document["components"]["schemas"]["CustomerPatch"]
    product = document["components"]["schemas"]["Product"]["properties"]
    assert product["price"]["type"] == "string"  # Decimal travels as a string
    assert "core.product.cost" in product["cost"]["description"]
    listing = document["paths"]["/api/v1/customer"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"q", "sort", "cursor", "limit", "status", "owner_id"} <= set(params)
    assert params["owner_id"]["schema"]["type"] == "integer"
    assert params["limit"]["schema"]["maximum"] == app.config["MAX_PAGE_SIZE"]
    assert "-name" in params["sort"]["schema"]["enum"]
    product_filters = {p["name"] for p in document["paths"]["/api/v1/product"]["get"]["parameters"]}
    assert "cost" not in product_filters
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_docs_page_is_a_readable_script_free_reference(app):
    response = app.test_client().get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for spec in published(app):
        assert f"/api/v1/{spec.name}" in page
        assert f'id="schema-{component_name(spec.name)}"' in page
    assert "/api/v1/users" in page and "owner_id" in page
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    assert all(script.get("src") for script in tree.iter("script")), "no inline script"
    assert not [el for el in tree.iter() if isinstance(el.tag, str) and ("style" in el.attrib or any(
        name.startswith("on") for name in el.attrib))]


# ------------------------------------------------------------------ a plugin entity, with no API code

class _PluginBase(DeclarativeBase):
    metadata = MetaData()


class Gadget(TimestampMixin, SoftDeleteMixin, VersionedMixin, _PluginBase):
    __tablename__ = "apitest_gadget"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Secret(TimestampMixin, _PluginBase):
    __tablename__ = "apitest_secret"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class GadgetSchema(EntitySchema):
    name = fields.String(required=True)
    size = fields.Integer(allow_none=True)


class SecretSchema(EntitySchema):
    name = fields.String(required=True)


class GadgetPlugin:
    """An "apitest" module with one published entity and one kept out of the API."""

    @hookimpl
    def register_permissions(self):
        return [Permission(f"apitest.{entity}.{action}", action) for entity in ("gadget", "secret")
                for action in ("view", "create", "edit", "delete")]

    @hookimpl
    def register_roles(self):
        return [StockRole("boss", {f"apitest.{e}.{a}": "all" for e in ("gadget", "secret")
                                   for a in ("view", "create", "edit", "delete")})]

    @hookimpl
    def entity_specs(self):
        return [
            EntitySpec("gadget", Gadget, GadgetSchema, "Gadget", "Gadgets", module="apitest",
                       sort_fields=["id", "name"], filter_fields=["size"], search_fields=["name"]),
            EntitySpec("secret", Secret, SecretSchema, "Secret", "Secrets", module="apitest", api=False),
        ]


@pytest.fixture
def gadget_app(register_plugin):
    plugin_app = register_plugin(GadgetPlugin(), name="apitest")
    engine = plugin_app.extensions["guanxi"].engine
    _PluginBase.metadata.create_all(engine)
    yield plugin_app
    _PluginBase.metadata.drop_all(engine)


def test_plugin_entity_gets_the_whole_api(gadget_app, org, api_as):
    boss = api_as(org.boss, gadget_app)
    created = boss.post("/api/v1/gadget", json={"name": "Sprocket", "size": 3})
    assert created.status_code == 201, created.get_json()
    gadget = created.get_json()
    boss.post("/api/v1/gadget", json={"name": "Flange", "size": 5})
    assert [g["name"] for g in boss.get("/api/v1/gadget?size=3").get_json()["items"]] == ["Sprocket"]
    assert boss.get("/api/v1/gadget?colour=red").status_code == 400
    patched = boss.patch(f"/api/v1/gadget/{gadget['id']}", json={"size": 4, "version": gadget["version"]})
    assert patched.status_code == 200 and patched.get_json()["size"] == 4
    assert boss.delete(f"/api/v1/gadget/{gadget['id']}").status_code == 204
    assert boss.get(f"/api/v1/gadget/{gadget['id']}").status_code == 404
    # a salesperson holds no apitest permission
    assert api_as(org.rep_east, gadget_app).get("/api/v1/gadget").status_code == 403

    document = gadget_app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "Gadget" in document["components"]["schemas"] and "/api/v1/gadget/{record_id}" in document["paths"]
    assert "Secret" not in document["components"]["schemas"]
    assert not [path for path in document["paths"] if "secret" in path]
    assert boss.get("/api/v1/secret").status_code == 404
    assert boss.post("/api/v1/secret", json={"name": "x"}).status_code == 404


def test_modules_not_loaded_are_not_described(app, gadget_app):
    core_only = app.test_client().get("/api/v1/openapi.json").get_json()
    assert not [path for path in core_only["paths"] if "gadget" in path]
    assert "Gadget" not in core_only["components"]["schemas"]
