"""Company settings (/admin/company): the letterhead of every PDF document (core.pdf) — name, address,
phone, e-mail, tax number, bank and account, optional logo — stored in the core ``setting`` table under
``core.company``."""
from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, fields as dataclass_fields

from flask import redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from core import audit
from core.admin import bp
from core.admin.helpers import field_errors, flash_saved
from core.authz import requires
from core.i18n import _, _l
from core.models import Setting
from core.runtime import db
from core.scope import system_scope

SETTING_KEY = "core.company"
PERMISSION = "core.admin.modules"  # company-wide configuration: the administrator's
LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))

# (name, label, max length, input type); the form shows them in this order
FORM_FIELDS = [
    ("name", _l("Company name"), 200, "text"),
    ("name_en", _l("Company name in English"), 200, "text"),
    ("address", _l("Address"), 300, "text"),
    ("address_en", _l("Address in English"), 300, "text"),
    ("phone", _l("Phone"), 40, "tel"),
    ("email", _l("E-mail"), 254, "email"),
    ("tax_number", _l("Tax number"), 20, "text"),
    ("bank", _l("Bank"), 200, "text"),
    ("bank_account", _l("Bank account"), 40, "text"),
]


@dataclass
class CompanySettings:
    name: str = ""
    name_en: str = ""
    address: str = ""
    address_en: str = ""
    phone: str = ""
    email: str = ""
    tax_number: str = ""
    bank: str = ""
    bank_account: str = ""
    logo_mimetype: str = ""
    logo_base64: str = ""

    @property
    def logo_data_uri(self) -> str | None:
        """The logo as a ``data:`` URI (PDFs fetch nothing from the network), or None."""
        if not (self.logo_mimetype and self.logo_base64):
            return None
        return f"data:{self.logo_mimetype};base64,{self.logo_base64}"

    def display_name(self, language: str) -> str:
        return (self.name_en if language == "en" and self.name_en else self.name) or self.name_en

    def display_address(self, language: str) -> str:
        return (self.address_en if language == "en" and self.address_en else self.address) or self.address_en


class CompanySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    address_en = fields.String(load_default="", validate=validate.Length(max=300))
    phone = fields.String(load_default="", validate=[validate.Length(max=40), validate.Regexp(
        r"^[0-9+()\-\s/转ext.]*$", error=_l("Only digits, spaces and + - ( ) / are allowed."))])
    email = fields.String(load_default="", validate=[validate.Length(max=254), lambda v: _email_ok(v)])
    # 统一社会信用代码: 18 characters; older numbers have 15-20; digits and capital letters only
    tax_number = fields.String(load_default="", validate=validate.Regexp(
        r"^([0-9A-Z]{15,20})?$", error=_l("15 to 20 digits or capital letters.")))
    bank = fields.String(load_default="", validate=validate.Length(max=200))
    bank_account = fields.String(load_default="", validate=[validate.Length(max=40), validate.Regexp(
        r"^[0-9\s-]*$", error=_l("Only digits, spaces and hyphens are allowed."))])


def _email_ok(value: str) -> bool:
    from core.mail import _ADDRESS
    if value and not _ADDRESS.match(value):
        raise ValidationError(str(_l("Not a valid e-mail address: %(address)s", address=value)))
    return True


def company_settings(session=None) -> CompanySettings:
    """The saved company settings (empty ones before an administrator filled them in)."""
    if session is None:
        from core.runtime import current
        with current().system_session("company settings for a letterhead") as own:
            return _load(own)
    with system_scope(session, "company settings"):
        return _load(session)


def _load(session) -> CompanySettings:
    row = session.execute(select(Setting).where(Setting.key == SETTING_KEY)).scalar_one_or_none()
    known = {f.name for f in dataclass_fields(CompanySettings)}
    return CompanySettings(**{k: v for k, v in ((row.value if row else None) or {}).items() if k in known})


def save_company(session, form: dict, logo=None, remove_logo=False, user_id=None) -> CompanySettings:
    """Validate and store the settings (not committed). ``logo``: an uploaded file (werkzeug FileStorage)
    or None to keep the current one. Raises ``ValidationError`` keyed by field (``logo`` included)."""
    values = {name: " ".join(str(form.get(name) or "").split()) for name, *_rest in FORM_FIELDS}
    values["tax_number"] = values["tax_number"].replace(" ", "").upper()
    errors = {}
    try:
        values = CompanySchema().load(values)
    except ValidationError as exc:
        errors.update(exc.messages)
    new_logo = None
    if logo is not None and getattr(logo, "filename", ""):
        new_logo, logo_error = _read_logo(logo)
        if logo_error:
            errors["logo"] = [logo_error]
    if errors:
        raise ValidationError(errors)
    with system_scope(session, "save company settings"):
        row = session.execute(select(Setting).where(Setting.key == SETTING_KEY)).scalar_one_or_none()
        before = _load(session)
        settings = CompanySettings(**{**asdict(before), **values})
        if remove_logo:
            settings.logo_mimetype = settings.logo_base64 = ""
        if new_logo:
            settings.logo_mimetype, settings.logo_base64 = new_logo
        if row is None:
            row = Setting(key=SETTING_KEY, value={})
            session.add(row)
        row.value = asdict(settings)
        changes = {name: [getattr(before, name), getattr(settings, name)] for name, *_rest in FORM_FIELDS
                   if getattr(before, name) != getattr(settings, name)}
        if before.logo_base64 != settings.logo_base64:
            changes["logo"] = [bool(before.logo_base64), bool(settings.logo_base64)]
        audit.record(session, "company", 1, "update", user_id, changes)
        session.flush()
    return settings


def _read_logo(upload) -> tuple[tuple[str, str] | None, str | None]:
    content = upload.stream.read(LOGO_MAX_BYTES + 1)
    if len(content) > LOGO_MAX_BYTES:
        return None, str(_l("The logo is too large (at most %(size)d KB).", size=LOGO_MAX_BYTES // 1024))
    for magic, mimetype in LOGO_TYPES:
        if content.startswith(magic):
            return (mimetype, base64.b64encode(content).decode("ascii")), None
    return None, str(_l("The logo must be a PNG or JPEG image."))


# ---------------------------------------------------------------------------------------------- page

def _render(values, errors=None, status=200, settings=None):
    settings = settings or company_settings(db())
    return render_template("admin/company.html", form_fields=FORM_FIELDS, values=values, errors=errors or {},
                           logo=settings.logo_data_uri, logo_max_kb=LOGO_MAX_BYTES // 1024), status


@bp.route("/company", methods=["GET", "POST"])
@requires(PERMISSION)
def company():
    session = db()
    if request.method == "GET":
        settings = company_settings(session)
        return _render(asdict(settings), settings=settings)
    values = {name: request.form.get(name, "") for name, *_rest in FORM_FIELDS}
    try:
        save_company(session, values, request.files.get("logo"), request.form.get("remove_logo") == "1",
                     user_id=getattr(_current_user(), "id", None))
    except ValidationError as exc:
        session.rollback()
        return _render(values, field_errors(exc), 422)
    session.commit()
    flash_saved(_("Company settings saved."))
    return redirect(url_for("admin.company"))


def _current_user():
    from flask import g
    return g.get("user")
