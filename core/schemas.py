"""Marshmallow schemas of the core entities: one schema per entity serves forms, API, import and export.

Unknown fields are rejected (mass-assignment defence); ``department_id`` is never loaded (it follows the
owner); ids, timestamps and ``department_id`` are dump-only.
"""
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from core.i18n import _l

CUSTOMER_KINDS = [("company", _l("Company")), ("individual", _l("Individual"))]
CUSTOMER_STATUSES = [("potential", _l("Potential")), ("intention", _l("Intention")), ("closed", _l("Closed deal"))]
CUSTOMER_LEVELS = [("A", _l("A (key)")), ("B", _l("B (important)")), ("C", _l("C (normal)")), ("D", _l("D (minor)"))]
CUSTOMER_SOURCES = [
    ("referral", _l("Referral")), ("website", _l("Website")), ("exhibition", _l("Exhibition")),
    ("cold_call", _l("Cold call")), ("advertising", _l("Advertising")), ("other", _l("Other")),
]
FOLLOW_UP_KINDS = [
    ("call", _l("Phone call")), ("visit", _l("Visit")), ("email", _l("E-mail")),
    ("wechat", _l("WeChat")), ("meeting", _l("Meeting")),
]


def values(choices):
    return [value for value, _label in choices]


def one_of(choices):
    return validate.OneOf(values(choices))


class Text(fields.String):
    """A string that is stripped; blank input becomes None for optional fields (before validation)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str) and not value.strip() and not self.required:
            value = None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if not value and self.required:
            raise self.make_error("required")
        if "\x00" in value:
            raise ValidationError(_l("Invalid value."))
        return value


class _BlankIsNone:
    """An empty or blank string means "no value" (validators do not run on it)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            value = value.strip()
            if not value:
                value = None
        return super().deserialize(value, attr, data, **kwargs)


class OptionalEmail(_BlankIsNone, fields.Email):
    pass


class OptionalURL(_BlankIsNone, fields.URL):
    pass


class EntitySchema(Schema):
    """Base of every entity schema (core and plugins)."""

    class Meta:
        unknown = RAISE

    id = fields.Integer(dump_only=True)
    version = fields.Integer(load_default=None, metadata={"description": "optimistic-lock version"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    custom = fields.Dict(keys=fields.String(), load_default=None)


class OwnedSchema(EntitySchema):
    owner_id = fields.Integer(allow_none=True, load_default=None)
    department_id = fields.Integer(dump_only=True)


def text_field(max_len, required=False, **kw):
    return Text(required=required, allow_none=not required, validate=validate.Length(min=1 if required else 0,
                max=max_len), **kw)


class CustomerSchema(OwnedSchema):
    code = text_field(40)
    name = text_field(200, required=True)
    kind = fields.String(load_default="company", validate=one_of(CUSTOMER_KINDS))
    industry = text_field(50)
    level = fields.String(allow_none=True, validate=validate.OneOf(values(CUSTOMER_LEVELS) + [None]))
    source = fields.String(allow_none=True, validate=validate.OneOf(values(CUSTOMER_SOURCES) + [None]))
    status = fields.String(load_default="potential", validate=one_of(CUSTOMER_STATUSES))
    province = text_field(50)
    city = text_field(50)
    address = text_field(255)
    phone = text_field(40)
    email = OptionalEmail(allow_none=True)
    website = OptionalURL(allow_none=True, schemes={"http", "https"})
    credit_rating = text_field(20)
    notes = Text(allow_none=True, validate=validate.Length(max=20000))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=50)), load_default=None)

    @pre_load
    def _blank_choices(self, data, **kwargs):
        for key in ("level", "source"):
            if data.get(key) == "":
                data = {**data, key: None}
        return data


class ContactSchema(OwnedSchema):
    customer_id = fields.Integer(required=True)
    name = text_field(100, required=True)
    is_primary = fields.Boolean(load_default=False)
    title = text_field(100)
    mobile = text_field(40)
    phone = text_field(40)
    email = OptionalEmail(allow_none=True)
    birthday = fields.Date(allow_none=True)
    wechat = text_field(64)
    notes = Text(allow_none=True, validate=validate.Length(max=20000))


class ProductSchema(EntitySchema):
    code = text_field(40, required=True)
    name = text_field(200, required=True)
    category = text_field(100)
    unit = text_field(20)
    price = fields.Decimal(places=2, as_string=True, load_default=None,
                           validate=validate.Range(min=0, error=_l("Must be at least {min}.")))
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$",
                             error=_l("Use a three-letter currency code such as CNY.")))
    cost = fields.Decimal(places=2, as_string=True, allow_none=True,
                          validate=validate.Range(min=0, error=_l("Must be at least {min}.")))
    active = fields.Boolean(load_default=True)


class FollowUpSchema(OwnedSchema):
    customer_id = fields.Integer(allow_none=True, load_default=None)
    contact_id = fields.Integer(allow_none=True, load_default=None)
    kind = fields.String(load_default="call", validate=one_of(FOLLOW_UP_KINDS))
    content = Text(required=True, validate=validate.Length(min=1, max=20000))
    happened_at = fields.AwareDateTime(default_timezone=None, load_default=None)
    next_follow_up = fields.Date(allow_none=True, load_default=None)
    related_entity = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=40))
    related_id = fields.Integer(allow_none=True, load_default=None)
