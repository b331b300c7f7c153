"""One marshmallow schema serves the generic form, the REST API, import and export of projects."""
from marshmallow import Schema, fields, validate

from core.i18n import _l
from core.schemas import OwnedSchema, Text, one_of, text_field

IMPORTANCE_CHOICES = [("key", _l("Critical")), ("high", _l("High")), ("normal", _l("Normal")), ("low", _l("Low"))]
TYPE_CHOICES = [
    ("engineering", _l("Engineering project")), ("integration", _l("System integration")),
    ("equipment", _l("Equipment supply")), ("service", _l("Service project")),
    ("tender", _l("Public tender")), ("other", _l("Other")),
]


class ProjectSchema(OwnedSchema):
    # Blank: the next number of the year (PRJ-2026-0001) is generated when the project is saved.
    number = text_field(40)
    name = text_field(200, required=True)
    importance = fields.String(load_default="normal", validate=one_of(IMPORTANCE_CHOICES))
    type = fields.String(load_default="other", validate=one_of(TYPE_CHOICES))
    kickoff_date = fields.Date(allow_none=True, load_default=None)
    # Checked against the configured stages by services.on_save (the list lives in the database).
    stage_id = fields.Integer(allow_none=True, load_default=None)
    description = Text(allow_none=True, validate=validate.Length(max=20000))


class StageChangeSchema(Schema):
    """Input of the "change stage" form."""

    stage_id = fields.Integer(required=True)
    note = Text(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None)


class LinkSchema(Schema):
    """Input of the "link a customer / contact" forms."""

    record_id = fields.Integer(required=True)
    role = text_field(50)
    note = text_field(255)


class StageSchema(Schema):
    """A stage as the administrator edits it."""

    name_zh = text_field(100, required=True)
    name_en = text_field(100, required=True)
    active = fields.Boolean(load_default=True)
