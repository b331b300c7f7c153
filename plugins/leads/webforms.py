"""Web-to-lead: embeddable forms that let a company's website visitors leave their details as a lead.

The public page has no login and no CSRF token (it lives in an iframe on another site), so three things
stand in for them: a honeypot field (a bot that fills it gets a thank-you page and nothing is saved), a rate
limit per client address and per form (``leads_web_form_attempt``), and validation at every field. The
lead is written under an explicit, logged system scope and handed round-robin to the form's department.
"""
from __future__ import annotations

import datetime as dt
import secrets

from marshmallow import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm.exc import StaleDataError

from core import services
from core.db import utcnow
from core.i18n import _l
from core.models import Department, User
from core.scope import system_scope
from plugins.leads import round_robin
from plugins.leads.models import WebForm, WebFormAttempt

HONEYPOT_FIELD = "website_url"  # looks like a field a bot wants to fill; people never see it
PER_IP_PER_MINUTE = 5
PER_FORM_PER_MINUTE = 60
KEEP_ATTEMPTS = dt.timedelta(hours=1)


class RateLimited(Exception):
    """Too many submissions from this address or to this form in the last minute."""


class NoOwner(Exception):
    """Nobody can receive leads from this form (no eligible user in its department, no fallback owner)."""


def new_token() -> str:
    return secrets.token_urlsafe(24)


def active_form(session, token: str) -> WebForm | None:
    return session.execute(select(WebForm).where(WebForm.token == token, WebForm.active.is_(True))
                           ).scalar_one_or_none()


def all_forms(session) -> list[WebForm]:
    return list(session.execute(select(WebForm).order_by(WebForm.id)).scalars())


def form_by_id(session, form_id: int) -> WebForm | None:
    return session.execute(select(WebForm).where(WebForm.id == form_id)).scalar_one_or_none()


def save_form(session, data: dict, form: WebForm | None = None) -> WebForm:
    """Create or change a web form (admin page); a target department or a fallback owner is required."""
    errors = {}
    if data.get("department_id") and session.execute(
            select(Department.id).where(Department.id == data["department_id"])).scalar_one_or_none() is None:
        errors["department_id"] = [str(_l("Not found."))]
    if data.get("owner_id"):
        owner = session.execute(select(User).where(User.id == data["owner_id"])).scalar_one_or_none()
        if owner is None or not owner.active:
            errors["owner_id"] = [str(_l("Unknown or inactive user."))]
    if errors:
        raise ValidationError(errors)
    if form is None:
        form = WebForm(token=new_token())
        session.add(form)
    for key, value in data.items():
        setattr(form, key, value)
    session.commit()
    return form


def check_rate(session, form: WebForm, ip: str, now=None) -> None:
    """Record this attempt; raise ``RateLimited`` when the address or the form is over its limit."""
    now = now or utcnow()
    minute_ago = now - dt.timedelta(minutes=1)
    session.execute(delete(WebFormAttempt).where(WebFormAttempt.at < now - KEEP_ATTEMPTS))
    by_ip = session.execute(select(func.count(WebFormAttempt.id)).where(
        WebFormAttempt.ip == ip, WebFormAttempt.at >= minute_ago)).scalar_one()
    by_form = session.execute(select(func.count(WebFormAttempt.id)).where(
        WebFormAttempt.form_id == form.id, WebFormAttempt.at >= minute_ago)).scalar_one()
    session.add(WebFormAttempt(form_id=form.id, ip=ip[:64], at=now))
    session.commit()  # refused attempts count too: hammering keeps the door shut
    if by_ip >= PER_IP_PER_MINUTE or by_form >= PER_FORM_PER_MINUTE:
        raise RateLimited()


def _owner_for(session, form: WebForm) -> User:
    chosen = round_robin.next_user(session, form.department_id) if form.department_id else None
    if chosen is None and form.owner_id:
        chosen = session.execute(select(User).where(User.id == form.owner_id, User.active.is_(True))
                                 ).scalar_one_or_none()
    if chosen is None:
        raise NoOwner(form.id)
    return chosen


def capture(session, registry, form: WebForm, data: dict, attempts: int = 3):
    """Save a visitor's lead (one transaction, through the core record service: audit, search, custom
    field defaults) and return it. A round-robin turn taken by a simultaneous submission (the pointer's
    version moved on, SQLite) is simply asked for again."""
    for attempt in range(attempts):
        try:
            with system_scope(session, f"web-to-lead form {form.id}"):
                owner = _owner_for(session, form)
                lead_data = {**data, "owner_id": owner.id, "source": form.source, "status": "new",
                             "web_form_id": form.id}
                return services.create(session, registry["lead"], lead_data, registry)
        except StaleDataError:
            session.rollback()
            if attempt == attempts - 1:
                raise
