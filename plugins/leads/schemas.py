"""Marshmallow schemas: ``LeadSchema`` serves the generic form, the REST API, import and export; the others
serve the module's own pages (public web form, web-form admin, conversion)."""
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from core.i18n import _l
from core.schemas import OptionalEmail, OwnedSchema, Text, one_of, text_field, values

# Fixed, translatable lists (not configurable per instance: an administrator adds a finer source through a
# custom field). Stored values are the English keys, shown in the user's language.
STATUS_CHOICES = [("new", _l("New")), ("contacted", _l("Contacted")), ("qualified", _l("Qualified")),
                  ("unqualified", _l("Unqualified")), ("converted", _l("Converted"))]
SOURCE_CHOICES = [("website", _l("Website")), ("web_form", _l("Web form")), ("referral", _l("Referral")),
                  ("exhibition", _l("Exhibition")), ("advertising", _l("Advertising")),
                  ("cold_call", _l("Cold call")), ("social_media", _l("Social media")), ("import", _l("Import")),
                  ("other", _l("Other"))]
RATING_CHOICES = [("hot", _l("Hot")), ("warm", _l("Warm")), ("cold", _l("Cold"))]
# "converted" is set by the conversion only, never typed into a form or sent through the API
EDITABLE_STATUSES = [choice for choice in STATUS_CHOICES if choice[0] != "converted"]

# a lead's source -> the closest customer source (core.schemas.CUSTOMER_SOURCES)
CUSTOMER_SOURCE_OF = {"website": "website", "web_form": "website", "referral": "referral",
                      "exhibition": "exhibition", "advertising": "advertising", "cold_call": "cold_call"}


class LeadSchema(OwnedSchema):
    name = text_field(100, required=True)
    company = text_field(200)
    title = text_field(100)
    phone = text_field(40)
    mobile = text_field(40)
    email = OptionalEmail(allow_none=True, validate=validate.Length(max=254))
    wechat = text_field(64)
    address = text_field(255)
    source = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(values(SOURCE_CHOICES) + [None]))
    status = fields.String(load_default="new", validate=one_of(EDITABLE_STATUSES))
    rating = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(values(RATING_CHOICES) + [None]))
    qualification_notes = Text(allow_none=True, validate=validate.Length(max=20000))
    notes = Text(allow_none=True, validate=validate.Length(max=20000))
    converted_customer_id = fields.Integer(dump_only=True)
    converted_contact_id = fields.Integer(dump_only=True)
    converted_opportunity_id = fields.Integer(dump_only=True)
    converted_at = fields.DateTime(dump_only=True)

    @pre_load
    def _blank_choices(self, data, **kwargs):
        # an empty select means "no value"
        for key in ("source", "rating"):
            if isinstance(data, dict) and data.get(key) == "":
                data = {**data, key: None}
        return data


class WebCaptureSchema(Schema):
    """What a visitor types into the public web form."""

    name = text_field(100, required=True)
    company = text_field(200)
    phone = text_field(40)
    email = OptionalEmail(allow_none=True, validate=validate.Length(max=254))
    notes = Text(allow_none=True, validate=validate.Length(max=5000))


class WebFormSchema(Schema):
    """The web-form admin page."""

    name = text_field(100, required=True)
    department_id = fields.Integer(allow_none=True, load_default=None)
    owner_id = fields.Integer(allow_none=True, load_default=None)
    source = fields.String(load_default="web_form", validate=one_of(SOURCE_CHOICES))
    thank_you = Text(allow_none=True, validate=validate.Length(max=2000))
    active = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _somebody_receives_the_leads(self, data, **kwargs):
        if not data.get("department_id") and not data.get("owner_id"):
            raise ValidationError(_l("Choose a department for round-robin, or a fixed owner."), "department_id")
