"""Demo leads (``demo_data`` hook): ~40 leads in every status and from many sources, some converted into
the demo's customers, and an East web-to-lead form whose leads went round-robin to the East sales staff."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from core import demo as core_demo
from core.models import Department
from plugins.leads.models import Lead, RoundRobinPointer, WebForm
from plugins.leads.webforms import new_token

# status: how many (converted ones are matched with existing customers)
STATUS_COUNTS = {"new": 9, "contacted": 8, "qualified": 7, "unqualified": 6, "converted": 8}
WEB_FORM_LEADS = 7
SOURCES = ["website", "referral", "exhibition", "advertising", "cold_call", "social_media", "other"]
NOTES = {
    "new": ["官网留言，询问产品价格", "展会上交换了名片", "Asked for a brochure at the trade fair"],
    "contacted": ["已电话联系，客户下月有采购预算", "已加微信，发送了产品资料", "Called back, wants a demo next week"],
    "qualified": ["预算已确认，决策人是总经理", "需求明确：年内替换现有设备", "Budget approved, decision in Q3"],
    "unqualified": ["个人用户，采购量太小", "已有长期供应商，暂无需求", "Student project, no purchase planned"],
}
WEB_FORM_NOTES = ["想了解批量采购的折扣", "请安排销售联系我", "Please send a quotation for 50 units"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"leads-{seed}")
    staff = core_demo.sales_staff(users)
    if not staff:
        return
    form, form_staff = _web_form(session, users, staff)
    leads = _converted(rng, staff, customers, STATUS_COUNTS["converted"])
    for status, count in STATUS_COUNTS.items():
        for _ in range(0 if status == "converted" else count):
            owner = rng.choice(staff)
            leads.append(_lead(rng, owner, status, rng.choice(SOURCES),
                               core_demo.random_moment(rng, today, 120),
                               rng.choice(NOTES[status])))
    for index in range(WEB_FORM_LEADS):
        owner = form_staff[index % len(form_staff)]  # the round-robin turns
        lead = _lead(rng, owner, rng.choice(["new", "new", "contacted"]), "web_form",
                     core_demo.random_moment(rng, today, 30),
                     rng.choice(WEB_FORM_NOTES))
        lead.web_form_id = form.id
        leads.append(lead)
    session.add_all(leads)
    _point_round_robin(session, form.department_id, form_staff[(WEB_FORM_LEADS - 1) % len(form_staff)])
    session.flush()


def _web_form(session, users, staff):
    """The East department's website form (its token comes from ``secrets``: it is a public URL)."""
    manager = users.get("manager_east") or staff[0]
    form = WebForm(token=new_token(), name="官网咨询表单 Website enquiry", department_id=manager.department_id,
                   owner_id=manager.id, source="web_form", active=True,
                   thank_you="感谢您的咨询，我们的销售顾问会在一个工作日内联系您。Thank you, we will call you within one "
                             "working day.")
    session.add(form)
    session.flush()
    path = session.execute(select(Department.path).where(Department.id == manager.department_id)).scalar() or ""
    subtree = set(session.execute(select(Department.id).where(Department.path.startswith(path))).scalars())
    form_staff = [user for user in staff if user.department_id in subtree] or [manager]
    return form, form_staff


def _point_round_robin(session, department_id, last_user):
    """The next live web lead continues the demo's rotation."""
    pointer = session.get(RoundRobinPointer, department_id)
    if pointer is None:
        session.add(RoundRobinPointer(department_id=department_id, last_user_id=last_user.id))
    else:
        pointer.last_user_id = last_user.id


def _lead(rng, owner, status, source, created, notes):
    name, title, latin = core_demo.person(rng, rng.random() < 0.15)
    company, city, _industry, _english = core_demo.company_name(rng, set())
    return Lead(name=name, company=company, title=title, mobile=core_demo.mobile(rng),
                email=f"{name.split()[0].lower()}@example.com" if latin else None,
                address=city, source=source, status=status, rating=rng.choice(["hot", "warm", "warm", "cold"]),
                qualification_notes=notes if status in ("qualified", "unqualified") else None,
                notes=None if status in ("qualified", "unqualified") else notes,
                owner_id=owner.id, department_id=owner.department_id, created_at=created, updated_at=created)


def _converted(rng, staff, customers, count):
    """Leads that became some of the demo's customers (the customer's owner converted his own lead)."""
    staff_ids = {user.id: user for user in staff}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff_ids and contacts]
    leads = []
    for customer, contacts in rng.sample(owned, min(count, len(owned))):
        contact, owner = contacts[0], staff_ids[customer.owner_id]
        converted = customer.created_at
        created = converted - dt.timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8))
        leads.append(Lead(
            name=contact.name, company=customer.name, title=contact.title, mobile=contact.mobile,
            email=contact.email, address=customer.city, source=customer.source if customer.source in SOURCES
            else "other", status="converted", rating="hot", qualification_notes="需求和预算已确认 Qualified",
            converted_customer_id=customer.id, converted_contact_id=contact.id, converted_at=converted,
            converted_by_id=owner.id, owner_id=owner.id, department_id=owner.department_id,
            created_at=created, updated_at=converted))
    return leads
