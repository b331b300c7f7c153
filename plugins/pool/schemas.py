"""The admin form of a pool: one marshmallow schema, errors per field in the user's language."""
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from core.i18n import _, _l

AT_LEAST_ONE = validate.Range(min=1, error=_l("Enter a whole number of at least 1, or leave it empty."))


class PoolSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    department_id = fields.Integer(load_default=None, allow_none=True)
    days_without_follow_up = fields.Integer(load_default=None, allow_none=True, validate=AT_LEAST_ONE)
    days_without_deal = fields.Integer(load_default=None, allow_none=True, validate=AT_LEAST_ONE)
    warn_days_before = fields.Integer(load_default=3, validate=validate.Range(
        min=0, max=365, error=_l("Enter a number of days between 0 and 365.")))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=AT_LEAST_ONE)
    active = fields.Boolean(load_default=False)

    @pre_load
    def blanks_are_none(self, data, **_kwargs):
        """An empty box means "off" (no rule, no limit, company-wide); a missing checkbox means False."""
        cleaned = {key: (value.strip() if isinstance(value, str) else value) for key, value in data.items()}
        for key in ("department_id", "days_without_follow_up", "days_without_deal", "capacity"):
            if cleaned.get(key) == "":
                cleaned[key] = None
        if cleaned.get("warn_days_before") == "":
            cleaned.pop("warn_days_before")
        if cleaned.get("name") == "":
            cleaned.pop("name")  # "required", not "too short"
        cleaned["active"] = cleaned.get("active") in ("on", "1", "true", True)
        return cleaned

    @validates_schema
    def warning_fits_the_rules(self, data, **_kwargs):
        rules = [d for d in (data.get("days_without_follow_up"), data.get("days_without_deal")) if d]
        if rules and data.get("warn_days_before", 0) >= min(rules):
            raise ValidationError(_("The reminder must come before the shortest rule (%(days)d days).",
                                    days=min(rules)), "warn_days_before")
