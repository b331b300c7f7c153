"""Shared helpers of the leads tests (imported by the test modules; no conftest, so the folders of other
modules' tests cannot clash with ours)."""
from __future__ import annotations

import re

from sqlalchemy import select

from plugins.leads.models import Lead, WebForm
from plugins.leads.webforms import new_token


def make_lead(gx, owner, **values) -> int:
    """A lead owned by ``owner`` (written under the system scope); returns its id."""
    with gx.system_session("test: lead") as session:
        lead = Lead(name=values.pop("name", "刘备 Liu Bei"), owner_id=owner.id, department_id=owner.department_id,
                    **values)
        session.add(lead)
        session.commit()
        return lead.id


def load_lead(gx, lead_id) -> Lead:
    with gx.system_session("test: read lead") as session:
        return session.execute(select(Lead).where(Lead.id == lead_id)
                               .execution_options(include_deleted=True)).scalar_one()


def make_web_form(gx, department_id=None, owner_id=None, active=True, **values) -> WebForm:
    with gx.system_session("test: web form") as session:
        form = WebForm(token=new_token(), name=values.pop("name", "官网咨询 Website enquiry"),
                       department_id=department_id, owner_id=owner_id, active=active, **values)
        session.add(form)
        session.commit()
        return form


def leads_of(gx, **where) -> list[Lead]:
    with gx.system_session("test: leads") as session:
        stmt = select(Lead).order_by(Lead.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Lead, name) == value)
        return list(session.execute(stmt).scalars())


def field_errors(html: str, field_id: str) -> str:
    """Text of the error block ``id="<field_id>-errors"``."""
    match = re.search(rf'id="{re.escape(field_id)}-errors"[^>]*>((?:<div>.*?</div>)*)</div>', html, re.S)
    return match.group(1) if match else ""
