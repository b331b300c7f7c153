"""One marshmallow schema serves the generic form, the REST API, import and export."""
from marshmallow import fields

from core.i18n import _l
from core.schemas import OwnedSchema, one_of, text_field

OUTCOME_CHOICES = [("planned", _l("Planned")), ("positive", _l("Positive")), ("neutral", _l("Neutral")),
                   ("negative", _l("Negative"))]


class SiteVisitSchema(OwnedSchema):
    class Meta(OwnedSchema.Meta):
        exclude = ("custom",)  # no custom fields on this entity (see EntitySpec.custom_fields)

    customer_id = fields.Integer(required=True)
    date = fields.Date(required=True)
    purpose = text_field(200, required=True)
    outcome = fields.String(load_default="planned", validate=one_of(OUTCOME_CHOICES))
