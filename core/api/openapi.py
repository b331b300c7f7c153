"""The OpenAPI 3.0.3 document of the API, built with apispec from the entity registry.

One schema component per published entity (plus its list page and its partial-update variant), the paths
of the generic record endpoints and of the directory, a shared error schema and the bearer security scheme.
Only entities of enabled modules appear: the document is public and describes shapes, never data.
"""
from __future__ import annotations

from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import fields

from core.api.directory import DEPARTMENTS, USERS, DepartmentOutSchema, UserOutSchema
from core.api.errors import ERROR_CODES, MESSAGES
from core.api.params import schema_filter_fields
from core.api.published import published_specs
from core.customfields import schema_for
from core.customfields.query import api_filter_fields, api_sort_keys
from core.i18n import _

PREFIX = "/api/v1"
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422)


def component_name(entity: str) -> str:
    """``followup`` → ``Followup``, ``sales_order`` → ``SalesOrder`` (entity names are unique)."""
    return "".join(part.capitalize() for part in entity.split("_"))


def _decimal_as_string(_converter, field, ret=None, **_kwargs):
    """marshmallow ``Decimal(as_string=True)`` travels as a JSON string, not a number; numeric bounds do not
    apply to a string, so they move into the description."""
    if not (isinstance(field, fields.Decimal) and field.as_string):
        return {}
    bounds = [f"{word} {ret.pop(key)}" for key, word in (("minimum", "≥"), ("maximum", "≤")) if key in (ret or {})]
    extra = {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    if bounds:
        extra["description"] = _("Decimal number as text, %(bounds)s", bounds=", ".join(bounds))
    return extra


def build_openapi() -> dict:
    """The whole document as a dict (built per call: cheap, and always matches the loaded modules)."""
    marshmallow = MarshmallowPlugin()
    doc = APISpec(
        title="Guanxi API", version="1", openapi_version="3.0.3", plugins=[marshmallow],
        info={"description": _("Records of every enabled module, with the same permissions and data "
                               "scope as the web pages. Authenticate with a personal token: "
                               "Authorization: Bearer <token>.")},
        security=[{"bearerAuth": []}],
    )
    marshmallow.converter.add_attribute_function(_decimal_as_string)
    _common_components(doc)
    for spec in published_specs():
        _entity(doc, marshmallow, spec)
    _directory(doc, marshmallow)
    doc.tag({"name": "documentation", "description": _("This description of the API")})
    doc.path(path=f"{PREFIX}/openapi.json", operations={"get": {
        "operationId": "openapi", "summary": _("This document"), "security": [], "tags": ["documentation"],
        "responses": {"200": {"description": _("The OpenAPI document"),
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}})
    return _plain(doc.to_dict())


def _common_components(doc):
    doc.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                  "description": _("Personal API token")})
    doc.components.schema("Error", {
        "type": "object", "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": sorted(set(ERROR_CODES.values()))},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {},
                       "description": _("Messages per field name, each a list of texts")},
            "current_version": {"type": "integer", "nullable": True,
                                "description": _("The record's version now (409 only)")},
        },
    })
    for status in ERROR_STATUSES:
        doc.components.response(_response_name(status), {
            "description": str(MESSAGES[status]),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        })


def _response_name(status: int) -> str:
    return component_name(ERROR_CODES[status])


def _errors(*statuses) -> dict:
    return {str(s): {"$ref": f"#/components/responses/{_response_name(s)}"} for s in statuses}


def _page_schema(item_ref: str) -> dict:
    return {"type": "object", "required": ["items", "next_cursor", "count", "count_capped"], "properties": {
        "items": {"type": "array", "items": {"$ref": item_ref}},
        "next_cursor": {"type": "string", "nullable": True,
                        "description": _("Pass as cursor= for the next page; null on the last page")},
        "count": {"type": "integer", "description": _("Matching records, at most the count cap")},
        "count_capped": {"type": "boolean", "description": _("True when there are more than count")},
    }}


def _entity(doc, marshmallow, spec):
    """Components ``<Name>``, ``<Name>Patch``, ``<Name>Page`` and the two paths of one entity."""
    name = component_name(spec.name)
    body = marshmallow.converter.schema2jsonschema(schema_for(spec))  # custom fields included
    for field_name, permission in spec.restricted_fields.items():
        if field_name in body["properties"]:
            prop = body["properties"][field_name]
            note = _("Present only for holders of the permission %(permission)s.", permission=permission)
            prop["description"] = f"{prop['description']}. {note}" if prop.get("description") else note
    patch = {**body, "properties": {k: {kk: vv for kk, vv in v.items() if kk != "default"}
                                    for k, v in body["properties"].items()}}
    patch.pop("required", None)  # a PATCH sends only what changes
    doc.components.schema(name, body)
    doc.components.schema(f"{name}Patch", patch)
    doc.components.schema(f"{name}Page", _page_schema(f"#/components/schemas/{name}"))
    doc.tag({"name": spec.name, "description": str(spec.label_plural)})
    _collection_path(doc, marshmallow, spec, name)
    _record_path(doc, spec, name)


def _collection_path(doc, marshmallow, spec, name):
    ref = {"$ref": f"#/components/schemas/{name}"}
    doc.path(path=f"{PREFIX}/{spec.name}", operations={
        "get": {"operationId": f"{spec.name}_list", "tags": [spec.name],
                "summary": _("List %(what)s", what=str(spec.label_plural)),
                "parameters": _list_parameters(marshmallow, _entity_filters(spec),
                                               list(spec.sort_fields) + _custom_sort_keys(spec)),
                "responses": {"200": _json(_("One page of records"), {"$ref": f"#/components/schemas/{name}Page"}),
                              **_errors(400, 401, 403)}},
        "post": {"operationId": f"{spec.name}_create", "tags": [spec.name],
                 "summary": _("Create a %(what)s", what=str(spec.label)),
                 "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                 "responses": {"201": {**_json(_("Created"), ref), "headers": {"Location": {
                     "description": _("URL of the new record"), "schema": {"type": "string"}}}},
                     **_errors(400, 401, 403, 409, 413, 415, 422)}},
    })


def _record_path(doc, spec, name):
    ref = {"$ref": f"#/components/schemas/{name}"}
    label = str(spec.label)
    record_id = {"name": "record_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1}}
    doc.path(path=f"{PREFIX}/{spec.name}/{{record_id}}", parameters=[record_id], operations={
        "get": {"operationId": f"{spec.name}_get", "tags": [spec.name],
                "summary": _("Read a %(what)s", what=label),
                "responses": {"200": _json(_("The record"), ref), **_errors(401, 403, 404)}},
        "patch": {"operationId": f"{spec.name}_update", "tags": [spec.name],
                  "summary": _("Change a %(what)s (only the fields sent; send version to detect "
                               "concurrent edits)", what=label),
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": {"$ref": f"#/components/schemas/{name}Patch"}}}},
                  "responses": {"200": _json(_("The changed record"), ref),
                                **_errors(400, 401, 403, 404, 409, 413, 415, 422)}},
        "delete": {"operationId": f"{spec.name}_delete", "tags": [spec.name],
                   "summary": _("Delete a %(what)s (to the recycle bin)", what=label),
                   "responses": {"204": {"description": _("Deleted")}, **_errors(401, 403, 404, 409)}},
    })


def _json(description, schema) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _entity_filters(spec) -> dict:
    """Filters as typed by the schema; restricted fields are left out (nobody may filter by them blind)."""
    from core.runtime import db
    names = [name for name in spec.filter_fields if name not in spec.restricted_fields]
    return {**schema_filter_fields(spec.schema(), names), **api_filter_fields(db(), spec)}


def _list_parameters(marshmallow, filters: dict, sort_fields) -> list:
    """q, sort, cursor, limit and one query parameter per filter (``{name: marshmallow field or None}``)."""
    config = current_app.config
    params = [
        _query("q", {"type": "string", "maxLength": 200}, _("Text search")),
        _query("sort", {"type": "string", "enum": [f"{p}{n}" for n in sort_fields for p in ("", "-")]},
               _("Sort key; a leading - sorts descending")),
        _query("cursor", {"type": "string"}, _("next_cursor of the previous page")),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": int(config["MAX_PAGE_SIZE"]),
                         "default": int(config["PAGE_SIZE"])}, _("Page size")),
    ]
    for name, field in filters.items():
        params.append(_query(name, _filter_schema(marshmallow, field), _("Only records with this value")))
    return params


def _custom_sort_keys(spec):
    from core.runtime import db
    return api_sort_keys(db(), spec)


def _filter_schema(marshmallow, field) -> dict:
    if hasattr(field, "ftype"):  # a custom field's filter (core.customfields.query.FilterParam)
        schema = {k: v for k, v in field.ftype.openapi.items() if k in ("type", "format")}
        if field.ftype.storage == "list":
            schema = {"type": "string"}
        if field.ftype.has_options:
            schema["enum"] = [o.get("value") for o in field.fdef.options or []]
        return schema
    if field is None:
        return {"type": "string"}
    prop = marshmallow.converter.field2property(field)
    schema = {k: v for k, v in prop.items() if k in ("type", "format", "items")} or {"type": "string"}
    if prop.get("enum"):
        schema["enum"] = [value for value in prop["enum"] if value is not None]
    return schema


def _query(name, schema, description) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _directory(doc, marshmallow):
    doc.tag({"name": "directory", "description": _("Users and departments (read only)")})
    for listing, schema_cls, single in ((USERS, UserOutSchema, "User"),
                                        (DEPARTMENTS, DepartmentOutSchema, "Department")):
        doc.components.schema(single, schema=schema_cls)
        doc.components.schema(f"{single}Page", _page_schema(f"#/components/schemas/{single}"))
        doc.path(path=f"{PREFIX}/{listing.name}", operations={"get": {
            "operationId": f"{listing.name}_list", "tags": ["directory"],
            "summary": _("List %(what)s", what=str(listing.label)),
            "parameters": _list_parameters(marshmallow, listing.filter_fields, listing.sort_fields),
            "responses": {"200": _json(_("One page"), {"$ref": f"#/components/schemas/{single}Page"}),
                          **_errors(400, 401, 403)}}})
    doc.path(path=f"{PREFIX}/users/{{user_id}}", parameters=[
        {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        operations={"get": {"operationId": "users_get", "tags": ["directory"], "summary": _("Read a user"),
                            "responses": {"200": _json(_("The user"), {"$ref": "#/components/schemas/User"}),
                                          **_errors(401, 403, 404)}}})


def _plain(value):
    """apispec leaves Decimals (validator bounds) and lazy strings in the dict: make it JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
