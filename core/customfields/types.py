"""Custom field types: one small class per type.

Each type gives (1) the marshmallow field that validates a non-blank value and returns what is stored in the
record's ``custom`` JSON, (2) the name of its form widget, (3) a display formatter, and (4) ONE SQL expression
builder per dialect, used for filtering, sorting AND for the optional expression index (``indexes.py``), so
that a filter can always use the index built for it.

Stored JSON values: text types and dates are strings (ISO dates and UTC ``YYYY-MM-DDTHH:MM:SSZ`` date-times,
which sort correctly as text), integers and references are numbers, decimals and money are strings (exact),
yes/no is a boolean, multi select a list of option values.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields, validate
from sqlalchemy import BigInteger, Boolean, Numeric, String, cast, func, literal_column, type_coerce

from core.i18n import _l

KEY_PATTERN = re.compile(r"^cf_[a-z0-9]+$")
OPTION_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MAX_INT = 10**15  # exact in JavaScript clients and in every database's BIGINT
MAX_DECIMAL = Decimal(10) ** 14


def check_key(key: str) -> str:
    """Keys reach SQL as literals (never user text): refuse anything but a server slug."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > 40:
        raise ValueError(f"invalid custom field key {key!r}")
    return key


def _quoted(text: str):
    return literal_column(f"'{text}'")


def json_value(model, key: str, dialect: str, scalar=True):
    """The text of ``custom[key]`` (SQL NULL when absent or JSON null), written with literals so that an
    expression index on exactly this expression matches the filter."""
    check_key(key)
    column = model.__table__.c.custom
    if dialect == "postgresql":
        return column.op("->>")(_quoted(key))
    if dialect in ("mysql", "mariadb"):
        return (func.json_value if scalar else func.json_extract)(column, _quoted(f"$.{key}"))
    return func.json_extract(column, _quoted(f"$.{key}"))


class FieldType:
    """Base of every custom field type (core and plugins, through the ``custom_field_types`` hook)."""

    key = ""
    label = ""
    widget = "text"  # form widget: text textarea number date datetime checkbox select multiselect url email
    #                  tel user reference
    storage = "text"  # text | integer | decimal | boolean | list
    indexable = True
    uniqueable = True
    sortable = True
    has_options = False
    searchable = False
    reference: str | None = None  # "user" or an entity name
    compatible: frozenset = frozenset()  # type keys this type may change into without converting data
    openapi: dict = {"type": "string"}

    # -- validation
    def inner_field(self, fdef) -> fields.Field:
        """A marshmallow field validating one non-blank value."""
        return fields.String(validate=validate.Length(max=255))

    def store(self, value, fdef):
        """The validated value as stored in JSON."""
        return value

    # -- display and forms
    def format(self, value, fdef, language="en", lookups=None) -> str:
        return "" if value is None else str(value)

    def form_text(self, value) -> str:
        return "" if value is None else str(value)

    # -- SQL
    def expression(self, model, key, dialect):
        """The one expression used for filters, sorting and the index."""
        text = json_value(model, key, dialect)
        return type_coerce(text, String()) if dialect != "postgresql" else text

    def generated_column_type(self):
        """MariaDB has no functional index: the index goes on a virtual column of this type."""
        return String(255)

    def parse_filter(self, raw: str, fdef):
        """A filter value typed from URL text (ValueError when it does not fit)."""
        if not raw:
            raise ValueError(raw)
        return raw[:255]

    def filter_clause(self, expression, value):
        return expression == value


class TextType(FieldType):
    key, label, widget, searchable = "text", _l("Text"), "text", True
    compatible = frozenset({"textarea", "url", "email", "phone"})


class LongTextType(FieldType):
    key, label, widget, searchable = "textarea", _l("Long text"), "textarea", True
    indexable = uniqueable = sortable = False
    compatible = frozenset({"text"})

    def inner_field(self, fdef):
        return fields.String(validate=validate.Length(max=20000))


class UrlType(FieldType):
    key, label, widget = "url", _l("URL"), "url"
    compatible = frozenset({"text", "textarea"})
    openapi = {"type": "string", "format": "uri"}

    def inner_field(self, fdef):
        return fields.URL(schemes={"http", "https"}, validate=validate.Length(max=255))


class EmailType(FieldType):
    key, label, widget, searchable = "email", _l("E-mail"), "email", True
    compatible = frozenset({"text", "textarea"})
    openapi = {"type": "string", "format": "email"}

    def inner_field(self, fdef):
        return fields.Email(validate=validate.Length(max=254))

    def store(self, value, fdef):
        return value.strip().lower()


class PhoneType(FieldType):
    key, label, widget, searchable = "phone", _l("Phone"), "tel", True
    compatible = frozenset({"text", "textarea"})

    def inner_field(self, fdef):
        return fields.String(validate=[validate.Length(max=40), validate.Regexp(
            r"^[0-9+()\-. /#*xX]+$", error=_l("Use digits, spaces and + - ( ) only."))])


class IntegerType(FieldType):
    key, label, widget, storage = "integer", _l("Whole number"), "number", "integer"
    compatible = frozenset({"decimal", "money"})
    openapi = {"type": "integer"}

    def inner_field(self, fdef):
        return fields.Integer(strict=False, validate=validate.Range(-MAX_INT, MAX_INT))

    def expression(self, model, key, dialect):
        text = json_value(model, key, dialect)
        if dialect == "sqlite":  # json_extract already answers an integer
            return type_coerce(text, BigInteger())
        return cast(text, BigInteger())  # MariaDB: CAST(... AS SIGNED INTEGER)

    def generated_column_type(self):
        return BigInteger()

    def parse_filter(self, raw, fdef):
        number = int(raw)
        if abs(number) > MAX_INT:
            raise ValueError(raw)
        return number


class DecimalType(FieldType):
    key, label, widget, storage = "decimal", _l("Decimal number"), "number", "decimal"
    places = 4
    compatible = frozenset({"money"})
    openapi = {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}

    def inner_field(self, fdef):
        return fields.Decimal(places=self.places, allow_nan=False,
                              validate=validate.Range(-MAX_DECIMAL, MAX_DECIMAL))

    def store(self, value, fdef):
        return format(value, "f")

    def format(self, value, fdef, language="en", lookups=None):
        if value is None:
            return ""
        try:
            from flask_babel import format_decimal
            return format_decimal(Decimal(str(value)), "#,##0.00##" if self.places > 2 else "#,##0.00")
        except (InvalidOperation, RuntimeError):
            return str(value)

    def expression(self, model, key, dialect):
        text = json_value(model, key, dialect)
        return cast(text, Numeric(28, 6) if dialect in ("mysql", "mariadb") else Numeric())

    def generated_column_type(self):
        return Numeric(28, 6)

    def parse_filter(self, raw, fdef):
        value = Decimal(raw)
        if not value.is_finite() or abs(value) >= MAX_DECIMAL:
            raise ValueError(raw)
        return value


class MoneyType(DecimalType):
    key, label = "money", _l("Money")
    places = 2
    compatible = frozenset({"decimal"})


class BooleanType(FieldType):
    key, label, widget, storage = "boolean", _l("Yes/no"), "checkbox", "boolean"
    indexable = uniqueable = sortable = False
    openapi = {"type": "boolean"}

    def inner_field(self, fdef):
        return fields.Boolean()

    def format(self, value, fdef, language="en", lookups=None):
        if value is None:
            return ""
        from core.i18n import _
        return _("Yes") if value else _("No")

    def expression(self, model, key, dialect):
        text = json_value(model, key, dialect)
        if dialect == "postgresql":
            return cast(text, Boolean())
        return type_coerce(text, BigInteger())  # SQLite: 1/0; MariaDB JSON_VALUE: "1"/"0"

    def parse_filter(self, raw, fdef):
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on", "y"):
            return True
        if lowered in ("0", "false", "no", "off", "n"):
            return False
        raise ValueError(raw)

    def filter_clause(self, expression, value):
        if isinstance(expression.type, Boolean):
            return expression == value
        return expression == (1 if value else 0)


class DateType(FieldType):
    key, label, widget = "date", _l("Date"), "date"
    openapi = {"type": "string", "format": "date"}

    def inner_field(self, fdef):
        return fields.Date()

    def store(self, value, fdef):
        return value.isoformat()

    def parse_filter(self, raw, fdef):
        return dt.date.fromisoformat(raw).isoformat()


class DateTimeType(FieldType):
    key, label, widget = "datetime", _l("Date and time"), "datetime"
    openapi = {"type": "string", "format": "date-time"}

    def inner_field(self, fdef):
        return fields.AwareDateTime(default_timezone=dt.timezone.utc)

    def store(self, value, fdef):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def format(self, value, fdef, language="en", lookups=None):
        parsed = parse_stored_datetime(value)
        if parsed is None:
            return "" if value is None else str(value)
        from core.web.display import plain_value
        return plain_value(parsed)

    def form_text(self, value):
        parsed = parse_stored_datetime(value)
        if parsed is None:
            return ""
        from core.web.display import local_timezone
        return parsed.astimezone(local_timezone()).strftime("%Y-%m-%dT%H:%M")

    def parse_filter(self, raw, fdef):
        raise ValueError("date-times are not filtered by equality")


def parse_stored_datetime(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


class SelectType(FieldType):
    key, label, widget, has_options = "select", _l("Single select"), "select", True
    compatible = frozenset({"text"})

    def inner_field(self, fdef):
        values = [o.get("value") for o in fdef.options or []]
        return fields.String(validate=validate.OneOf(values))

    def format(self, value, fdef, language="en", lookups=None):
        return "" if value is None else fdef.option_label(value, language)

    def parse_filter(self, raw, fdef):
        if raw not in {o.get("value") for o in fdef.options or []}:
            raise ValueError(raw)
        return raw


class MultiSelectType(FieldType):
    key, label, widget, has_options, storage = "multiselect", _l("Multiple select"), "multiselect", True, "list"
    indexable = uniqueable = sortable = False
    openapi = {"type": "array", "items": {"type": "string"}}

    def inner_field(self, fdef):
        values = [o.get("value") for o in fdef.options or []]
        return fields.List(fields.String(validate=validate.OneOf(values)), validate=validate.Length(max=100))

    def store(self, value, fdef):
        wanted = set(value)
        return [o["value"] for o in fdef.options or [] if o.get("value") in wanted]  # option order, no repeats

    def format(self, value, fdef, language="en", lookups=None):
        return ", ".join(fdef.option_label(v, language) for v in value or [])

    def form_text(self, value):
        return list(value or [])

    def expression(self, model, key, dialect):
        return type_coerce(json_value(model, key, dialect, scalar=False), String())

    def parse_filter(self, raw, fdef):
        return SelectType.parse_filter(self, raw, fdef)

    def filter_clause(self, expression, value):
        # option values are [A-Za-z0-9_.-]: only "_" needs escaping inside LIKE
        return expression.like('%"' + value.replace("_", "\\_") + '"%', escape="\\")


class ReferenceType(IntegerType):
    """A user, customer or contact id; the saver must be able to see the referenced record."""

    widget = "reference"
    uniqueable = False
    compatible = frozenset()

    def inner_field(self, fdef):
        return fields.Integer(strict=False, validate=validate.Range(1, 2**31 - 1))

    def format(self, value, fdef, language="en", lookups=None):
        if value is None:
            return ""
        if lookups is not None:
            if self.reference == "user":
                return lookups.users.get(value, f"#{value}")
            title = lookups.titles.get((self.reference, value))
            if title is not None:
                return title
            from core.i18n import _
            return _("(not visible)")
        return str(value)

    def parse_filter(self, raw, fdef):
        number = int(raw)
        if not 0 < number < 2**31:
            raise ValueError(raw)
        return number


class UserType(ReferenceType):
    key, label, widget, reference = "user", _l("User"), "user", "user"


class CustomerType(ReferenceType):
    key, label, reference = "customer", _l("Customer"), "customer"


class ContactType(ReferenceType):
    key, label, reference = "contact", _l("Contact"), "contact"


CORE_TYPES = [TextType(), LongTextType(), IntegerType(), DecimalType(), MoneyType(), DateType(), DateTimeType(),
              BooleanType(), SelectType(), MultiSelectType(), UrlType(), EmailType(), PhoneType(), UserType(),
              CustomerType(), ContactType()]


def all_types(pm=None) -> dict[str, FieldType]:
    """Core types plus those of enabled plugins (objects that are not ``FieldType`` are ignored)."""
    found = {t.key: t for t in CORE_TYPES}
    if pm is not None:
        for group in pm.hook.custom_field_types():
            for extra in group or []:
                if isinstance(extra, FieldType) and extra.key and extra.key not in found:
                    found[extra.key] = extra
    return found


def may_change(old: str, new: str, types: dict) -> bool:
    """A type change is allowed only when every stored value stays valid (no data is converted)."""
    return old == new or (old in types and new in types[old].compatible)


__all__ = ["FieldType", "CORE_TYPES", "all_types", "may_change", "check_key", "json_value", "KEY_PATTERN",
           "OPTION_VALUE", "ValidationError"]
