"""Business rules of projects: numbers, stages and their timeline, links to customers and contacts.

Every function takes the caller's session, so the data scope applies to every row it reads: a project,
customer or contact the caller cannot see is "not found", exactly like a missing one.
"""
from __future__ import annotations

import datetime as dt
import uuid

from flask import current_app, g, has_request_context
from flask_babel import get_locale
from marshmallow import ValidationError
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core import audit, services as core_services
from core.i18n import _l
from core.models import Contact, Customer
from core.scope import current_scope, get_scoped, system_scope
from plugins.projects.models import (
    DEFAULT_STAGES, NumberCounter, Project, ProjectContact, ProjectCustomer, Stage, StageHistory,
)

NUMBER_PREFIX = "PRJ"


# ------------------------------------------------------------------ stages

def ensure_default_stages(session) -> None:
    """Seed the nine default stages when the table is empty (the migration seeds them; this covers a wiped
    database). Called on writes only, never on a GET. Two requests racing here meet the unique key and one
    of them simply gives way."""
    if session.execute(select(Stage.id).limit(1)).first() is not None:
        return
    try:
        with session.begin_nested():
            for index, (key, zh, en) in enumerate(DEFAULT_STAGES):
                session.add(Stage(key=key, name_zh=zh, name_en=en, position=(index + 1) * 10, active=True))
    except IntegrityError:
        pass


def all_stages(session) -> list[Stage]:
    return list(session.execute(select(Stage).order_by(Stage.position, Stage.id)).scalars())


def language() -> str:
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale is not None else current_app.config.get("DEFAULT_LANGUAGE", "en")


def stage_label(stage: Stage | None) -> str:
    return stage.label(language()) if stage is not None else ""


def request_stages() -> list[Stage]:
    """Every stage, loaded once per request (labels for lists, forms and the audit trail)."""
    from core.runtime import current, db
    if has_request_context():
        if "_projects_stages" not in g:
            g._projects_stages = all_stages(db())
        return g._projects_stages
    with current().system_session("projects: stage labels") as session:
        return all_stages(session)


class StageChoices:
    """The ``choices`` of the stage field: read from the stage table when iterated (once per request), so
    generic forms, lists and the audit trail show the configured, translated stage names."""

    def _pairs(self):
        return [(stage.id, stage_label(stage)) for stage in request_stages()]

    def __iter__(self):
        return iter(self._pairs())

    def __getitem__(self, index):
        return self._pairs()[index]

    def __len__(self):
        return len(self._pairs())

    def __bool__(self):
        return True


def first_stage(session) -> Stage | None:
    ensure_default_stages(session)
    return next((s for s in all_stages(session) if s.active), None)


def _stage_error(message):
    return ValidationError({"stage_id": [str(message)]})


# ------------------------------------------------------------------ numbers

def next_number(session, year: int) -> str:
    """``PRJ-<year>-<nnnn>``: the year's counter is raised by one atomic UPDATE, which holds the row lock
    until the project is committed, so concurrent creations are serialised and never share a number."""
    _open_counter(session, year)
    with system_scope(session, "projects: number counter"), session.no_autoflush:
        for _attempt in range(50):
            raised = session.execute(update(NumberCounter).where(NumberCounter.year == year)
                                     .values(last_value=NumberCounter.last_value + 1)
                                     .execution_options(synchronize_session=False))
            if raised.rowcount == 0:
                break
            value = session.execute(select(NumberCounter.last_value).where(NumberCounter.year == year)
                                    .execution_options(populate_existing=True)).scalar_one()
            number = f"{NUMBER_PREFIX}-{year}-{value:04d}"
            if not _number_taken(session, number):  # a number typed by hand may already hold it
                return number
    raise ValidationError({"number": [str(_l("No free project number: please enter one."))]})


def _open_counter(session, year: int) -> None:
    """Create the year's counter row in its own short transaction, before the caller's transaction locks
    anything: two first projects of a year then never deadlock on inserting it (InnoDB gap locks)."""
    from core.runtime import current
    with system_scope(session, "projects: number counter"), session.no_autoflush:
        if session.execute(select(NumberCounter.year).where(NumberCounter.year == year)).first() is not None:
            return
    with current().system_session(f"projects: open the number counter of {year}") as other:
        try:
            other.add(NumberCounter(year=year, last_value=0))
            other.commit()
        except IntegrityError:
            other.rollback()  # opened by a concurrent request meanwhile


def _number_taken(session, number, exclude_id=None) -> bool:
    # Numbers are unique across the company, also among projects the caller cannot see.
    stmt = select(Project.id).where(Project.number == number).execution_options(include_deleted=True)
    if exclude_id is not None:
        stmt = stmt.where(Project.id != exclude_id)
    with system_scope(session, "projects: unique number"), session.no_autoflush:
        return session.execute(stmt.limit(1)).first() is not None


# ------------------------------------------------------------------ create / update rules

def on_save(session, record: Project, data: dict) -> None:
    """EntitySpec.on_save of projects: number, stage, and a timeline row when the stage changes."""
    from sqlalchemy import inspect as sa_inspect

    if not record.number:
        record.number = next_number(session, dt.date.today().year)
    elif _number_taken(session, record.number, exclude_id=record.id):
        raise ValidationError({"number": [str(_l("This number is already used by another project."))]})
    history = sa_inspect(record).attrs.stage_id.history
    old_stage_id = history.deleted[0] if history.deleted else None
    if record.id is not None and record.stage_id is not None and not history.has_changes():
        return  # an edit that leaves the stage alone
    with session.no_autoflush:
        if record.stage_id is None:
            if old_stage_id is not None:
                raise _stage_error(_l("Choose a stage."))
            stage = first_stage(session)
            record.stage_id = stage.id if stage is not None else None
        if record.stage_id == old_stage_id:
            return
        stage = session.execute(select(Stage).where(Stage.id == record.stage_id)).scalar_one_or_none()
        if stage is None or not stage.active:
            raise _stage_error(_l("Choose one of the active stages."))
        record.stage = stage
        session.add(StageHistory(project=record, from_stage_id=old_stage_id, to_stage_id=stage.id,
                                 note=data.get("stage_note"), changed_by_id=current_scope(session).user_id))


def change_stage(session, spec, project_id: int, stage_id: int, note: str | None, registry, version=None):
    """Move a project the caller may edit to another stage: audited, with a timeline row and a note."""
    data = {"stage_id": stage_id, "stage_note": note}
    if version is not None:
        data["version"] = version
    return core_services.update(session, spec, project_id, data, registry)


def timeline(session, project_id: int, limit: int = 100) -> list[StageHistory]:
    """Stage moves of a project, newest first (the caller has loaded the project through its scope)."""
    return list(session.execute(
        select(StageHistory).where(StageHistory.project_id == project_id)
        .order_by(StageHistory.changed_at.desc(), StageHistory.id.desc()).limit(limit)).scalars())


# ------------------------------------------------------------------ links to customers and contacts

def linked_customers(session, project_id: int) -> list[tuple[ProjectCustomer, Customer]]:
    """The project's customers that the caller may see (the join goes through the scoped Customer)."""
    rows = session.execute(
        select(ProjectCustomer, Customer).join(Customer, Customer.id == ProjectCustomer.customer_id)
        .where(ProjectCustomer.project_id == project_id).order_by(ProjectCustomer.id)).all()
    return [(link, customer) for link, customer in rows]


def linked_contacts(session, project_id: int) -> list[tuple[ProjectContact, Contact]]:
    rows = session.execute(
        select(ProjectContact, Contact).join(Contact, Contact.id == ProjectContact.contact_id)
        .where(ProjectContact.project_id == project_id).order_by(ProjectContact.id)).all()
    return [(link, contact) for link, contact in rows]


def contact_choices(session, project_id: int) -> list[Contact]:
    """Visible contacts of the project's visible customers, not yet linked (for the "add contact" form)."""
    customer_ids = select(ProjectCustomer.customer_id).where(ProjectCustomer.project_id == project_id)
    linked = select(ProjectContact.contact_id).where(ProjectContact.project_id == project_id)
    return list(session.execute(
        select(Contact).options(joinedload(Contact.customer))
        .where(Contact.customer_id.in_(customer_ids), Contact.id.not_in(linked))
        .order_by(Contact.customer_id, Contact.name, Contact.id).limit(200)).unique().scalars())


def _editable_project(session, spec, project_id) -> Project:
    return core_services.get(session, spec, project_id, action="edit")


def _not_found(field):
    return ValidationError({field: [str(_l("Not found."))]})


def link_customer(session, spec, project_id: int, customer_id: int, role=None, note=None) -> ProjectCustomer:
    """Link a customer the caller can see to a project he may edit (idempotent: an existing link gets the
    new role and note)."""
    project = _editable_project(session, spec, project_id)
    customer = get_scoped(session, Customer, customer_id)
    if customer is None:
        raise _not_found("record_id")
    return _save_link(session, spec, project, ProjectCustomer, "customer_id", customer.id, role, note)


def unlink_customer(session, spec, project_id: int, customer_id: int) -> None:
    """Remove a visible customer from a project he may edit, with that customer's contacts."""
    project = _editable_project(session, spec, project_id)
    customer = get_scoped(session, Customer, customer_id)
    if customer is None:
        raise _not_found("record_id")
    contact_ids = select(Contact.id).where(Contact.customer_id == customer.id).execution_options(
        include_deleted=True)
    with system_scope(session, f"projects: unlink customer {customer.id} from project {project.id}"):
        # the customer's contacts leave with it, also those the caller cannot see (the rule "a linked
        # contact belongs to a linked customer" must keep holding)
        session.execute(delete(ProjectContact).where(ProjectContact.project_id == project.id,
                                                     ProjectContact.contact_id.in_(contact_ids))
                        .execution_options(synchronize_session=False))
        removed = session.execute(delete(ProjectCustomer).where(ProjectCustomer.project_id == project.id,
                                                                ProjectCustomer.customer_id == customer.id)
                                  .execution_options(synchronize_session=False)).rowcount
    if removed:
        audit.record(session, spec.name, project.id, "update", current_scope(session).user_id,
                     {"linked_customer": [customer.id, None]})
    session.commit()


def link_contact(session, spec, project_id: int, contact_id: int, role=None, note=None) -> ProjectContact:
    """Link a visible contact that belongs to one of the project's linked customers."""
    project = _editable_project(session, spec, project_id)
    contact = get_scoped(session, Contact, contact_id)
    if contact is None:
        raise _not_found("record_id")
    belongs = session.execute(select(exists().where(ProjectCustomer.project_id == project.id,
                                                    ProjectCustomer.customer_id == contact.customer_id))).scalar()
    if not belongs:
        raise ValidationError({"record_id": [str(_l("Link the contact's customer to the project first."))]})
    return _save_link(session, spec, project, ProjectContact, "contact_id", contact.id, role, note)


def _save_link(session, spec, project, model, column: str, record_id: int, role, note):
    """Create the link (audited as ``linked_customer`` / ``linked_contact``) or give an existing one the new
    role and note; commits."""
    link = session.execute(select(model).where(
        model.project_id == project.id, getattr(model, column) == record_id)).scalar_one_or_none()
    if link is None:
        link = model(project_id=project.id, **{column: record_id})
        session.add(link)
        audit.record(session, spec.name, project.id, "update", current_scope(session).user_id,
                     {f"linked_{column.removesuffix('_id')}": [None, record_id]})
    link.role, link.note = role, note
    session.commit()
    return link


def unlink_contact(session, spec, project_id: int, contact_id: int) -> None:
    project = _editable_project(session, spec, project_id)
    contact = get_scoped(session, Contact, contact_id)
    if contact is None:
        raise _not_found("record_id")
    removed = session.execute(delete(ProjectContact).where(ProjectContact.project_id == project.id,
                                                           ProjectContact.contact_id == contact.id)
                              .execution_options(synchronize_session=False)).rowcount
    if removed:
        audit.record(session, spec.name, project.id, "update", current_scope(session).user_id,
                     {"linked_contact": [contact.id, None]})
    session.commit()


def projects_of_customer(session, customer_id: int, limit: int = 50) -> list[Project]:
    """Visible projects a customer takes part in, newest first."""
    in_project = select(ProjectCustomer.project_id).where(ProjectCustomer.customer_id == customer_id)
    return list(session.execute(select(Project).where(Project.id.in_(in_project))
                                .order_by(Project.id.desc()).limit(limit)).unique().scalars())


def first_customer_ids(session, project_ids) -> dict[int, int]:
    """For each project, its first linked customer that the caller can see (to prefill follow-ups)."""
    if not project_ids:
        return {}
    rows = session.execute(
        select(ProjectCustomer.project_id, func.min(ProjectCustomer.customer_id))
        .join(Customer, Customer.id == ProjectCustomer.customer_id)
        .where(ProjectCustomer.project_id.in_(list(project_ids))).group_by(ProjectCustomer.project_id)).all()
    return {project_id: customer_id for project_id, customer_id in rows}


# ------------------------------------------------------------------ merging duplicates (hook merge_records)

def relink(session, link_model, column_name: str, survivor_id: int, merged_ids: list[int]) -> None:
    """Links of merged customers (contacts) move to the survivor; where a project already links the
    survivor, the merged record's link is dropped instead of becoming a duplicate row."""
    column = getattr(link_model, column_name)
    rows = session.execute(select(link_model).where(column.in_([survivor_id, *merged_ids]))
                           .order_by(link_model.id)).scalars().all()
    kept: dict[int, object] = {row.project_id: row for row in rows if getattr(row, column_name) == survivor_id}
    for row in rows:
        if getattr(row, column_name) == survivor_id:
            continue
        survivor_link = kept.get(row.project_id)
        if survivor_link is None:
            setattr(row, column_name, survivor_id)
            kept[row.project_id] = row
        else:
            survivor_link.role = survivor_link.role or row.role
            survivor_link.note = survivor_link.note or row.note
            session.delete(row)
    session.flush()


# ------------------------------------------------------------------ stage administration

def save_stage(session, stage_id: int | None, data: dict) -> Stage:
    """Create (``stage_id`` None, appended last) or change a stage's names and active flag."""
    ensure_default_stages(session)
    if stage_id is None:
        last = session.execute(select(func.max(Stage.position))).scalar() or 0
        stage = Stage(key=f"custom_{uuid.uuid4().hex[:12]}", position=last + 10)
        session.add(stage)
    else:
        stage = session.execute(select(Stage).where(Stage.id == stage_id)).scalar_one_or_none()
        if stage is None:
            raise core_services.NotFound(stage_id)
    stage.name_zh, stage.name_en, stage.active = data["name_zh"], data["name_en"], data["active"]
    session.commit()
    return stage


def move_stage(session, stage_id: int, direction: int) -> None:
    """Swap a stage with its neighbour (``direction`` -1 up, +1 down) and renumber positions."""
    ensure_default_stages(session)
    stages = all_stages(session)
    index = next((i for i, s in enumerate(stages) if s.id == stage_id), None)
    if index is None:
        raise core_services.NotFound(stage_id)
    other = index + direction
    if 0 <= other < len(stages):
        stages[index], stages[other] = stages[other], stages[index]
    for position, stage in enumerate(stages, start=1):
        stage.position = position * 10
    session.commit()
