"""One marshmallow schema serves the opportunity form, the REST API, import and export."""
from flask import current_app, has_app_context
from marshmallow import ValidationError, fields, pre_load, validate

from core.i18n import _l
from core.schemas import OwnedSchema, Text, one_of, text_field
from plugins.opportunities.reasons import CLOSE_REASONS


def first_stage_id():
    from plugins.opportunities.stages import cached_stages
    return next((s.id for s in cached_stages() if s.active and s.kind == "open"), None)


class StageField(fields.Integer):
    """A stage id; a stage's key or label (Chinese or English) is accepted too, as a CSV import gives it."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip() and not value.strip().isdigit():
            from plugins.opportunities.stages import cached_stages
            wanted = value.strip().casefold()
            for stage in cached_stages():
                if wanted in (stage.key.casefold(), stage.label_zh.casefold(), stage.label_en.casefold()):
                    return stage.id
            raise ValidationError(_l("Unknown stage."))
        return super()._deserialize(value, attr, data, **kwargs)


def default_currency() -> str:
    return (current_app.config.get("DEFAULT_CURRENCY") if has_app_context() else None) or "CNY"


class OpportunitySchema(OwnedSchema):
    name = text_field(200, required=True)
    customer_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True, load_default=None)
    # Not given: the first active open stage, here for imports (they write rows in bulk, without on_save) and
    # again in services.apply_rules for every other path; the stage must exist (checked there).
    stage_id = StageField(allow_none=True, load_default=lambda: first_stage_id())
    amount = fields.Decimal(places=2, as_string=True, required=True,
                            validate=validate.Range(min=0, max=10**16 - 1,
                                                    error=_l("Must be between {min} and {max}.")))
    currency = fields.String(load_default=default_currency, validate=validate.Regexp(
        r"^[A-Z]{3}$", error=_l("Use a three-letter currency code such as CNY.")))
    expected_close = fields.Date(allow_none=True, load_default=None)
    source = text_field(50)
    competitors = Text(allow_none=True, validate=validate.Length(max=5000))
    close_reason = fields.String(allow_none=True, load_default=None,
                                 validate=validate.OneOf([v for v, _label in CLOSE_REASONS] + [None]))
    close_note = Text(allow_none=True, validate=validate.Length(max=5000))
    closed_at = fields.DateTime(dump_only=True)
    lead_id = fields.Integer(allow_none=True, load_default=None)
    description = Text(allow_none=True, validate=validate.Length(max=20000))

    @pre_load
    def _blank_means_default(self, data, **kwargs):
        # A blank currency (form or import) means "the instance's default currency", never an error.
        if isinstance(data, dict) and isinstance(data.get("currency"), str) and not data["currency"].strip():
            data = {k: v for k, v in data.items() if k != "currency"}
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].strip().upper()}
        return data


__all__ = ["OpportunitySchema", "default_currency", "one_of"]
