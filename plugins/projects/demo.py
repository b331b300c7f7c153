"""Demo projects (``demo_data`` hook): a dozen projects over the nine stages, each with the customers and
contacts taking part, its stage timeline, and follow-ups filed on it, the latest planning the next one
(today or overdue for some, so the dashboard's to-dos show project work)."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from core import demo as core_demo
from core.models import FollowUp
from plugins.projects.models import NumberCounter, Project, ProjectContact, ProjectCustomer, StageHistory
from plugins.projects.services import NUMBER_PREFIX, all_stages, ensure_default_stages

COUNT = 12
NAMES = ["智慧工厂一期", "新办公楼弱电工程", "数据中心扩容", "物流园自动化仓储", "医院信息化改造", "生产线 MES 系统",
         "Campus network upgrade", "污水处理厂设备供货", "连锁门店 IT 外包", "Regional warehouse fit-out",
         "研发中心实验设备", "城市轨道交通配套"]
TYPES = ["engineering", "integration", "equipment", "service", "tender", "other"]
CUSTOMER_ROLES = ["最终用户 End user", "总包方 General contractor", "设计院 Design institute", "集成商 Integrator"]
CONTACT_ROLES = ["决策人 Decision maker", "技术负责人 Technical lead", "采购 Purchasing", "使用部门 User"]
NOTES = ["与客户技术部确认了方案细节", "陪同客户考察样板工程", "提交了投标文件", "讨论了付款节点和交付计划",
         "Reviewed the delivery schedule with the general contractor"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"projects-{seed}")
    staff = {user.id: user for user in core_demo.sales_staff(users)}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff and contacts]
    ensure_default_stages(session)
    stages = [stage for stage in all_stages(session) if stage.active]
    if not owned or not stages:
        return
    numbers = _numbers(session, today.year, COUNT)
    projects, parts = [], []
    for index, number in enumerate(numbers):
        lead_customer = rng.choice(owned)
        owner = staff[lead_customer[0].owner_id]
        # the stages in turn, so every one of them holds a project
        reached = index % len(stages) if index < len(stages) else rng.randrange(len(stages))
        kickoff = today - dt.timedelta(days=rng.randint(15 * (reached + 1), 30 * (reached + 2)))
        created = core_demo.random_moment(rng, kickoff, 0)
        project = Project(number=number, name=NAMES[index % len(NAMES)], importance=rng.choice(
            ["key", "high", "normal", "normal", "low"]), type=rng.choice(TYPES), kickoff_date=kickoff,
            stage_id=stages[reached].id, description="示例项目 Demo project", owner_id=owner.id,
            department_id=owner.department_id, created_at=created, updated_at=created)
        # partners from the owner's department, so the team sees the whole project
        colleagues = [pair for pair in owned if pair[0].department_id == owner.department_id and pair != lead_customer]
        taking_part = [lead_customer] + rng.sample(colleagues, min(rng.randint(0, 2), len(colleagues)))
        projects.append(project)
        parts.append((project, owner, taking_part, stages[:reached + 1]))
    session.add_all(projects)
    session.flush()
    rows = []
    for project, owner, taking_part, path in parts:
        rows += _links(rng, project, taking_part)
        rows += _timeline(project, owner, path, today)
        rows += _follow_ups(rng, project, owner, taking_part[0], today)
    session.add_all(rows)
    session.flush()


def _numbers(session, year, count):
    """``PRJ-<year>-<nnnn>`` from the year's counter, which is moved on past them (one demo, no concurrency)."""
    counter = session.get(NumberCounter, year)
    if counter is None:
        counter = NumberCounter(year=year, last_value=0)
        session.add(counter)
    prefix = f"{NUMBER_PREFIX}-{year}-"
    taken = set(session.execute(select(Project.number).where(Project.number.startswith(prefix))
                                .execution_options(include_deleted=True)).scalars())
    numbers, value = [], counter.last_value or 0
    while len(numbers) < count:
        value += 1
        if f"{prefix}{value:04d}" not in taken:
            numbers.append(f"{prefix}{value:04d}")
    counter.last_value = value
    return numbers


def _links(rng, project, taking_part):
    rows = []
    for index, (customer, contacts) in enumerate(taking_part):
        rows.append(ProjectCustomer(project_id=project.id, customer_id=customer.id,
                                    role=CUSTOMER_ROLES[0] if index == 0 else rng.choice(CUSTOMER_ROLES[1:])))
        for contact in contacts[:2]:
            rows.append(ProjectContact(project_id=project.id, contact_id=contact.id, role=rng.choice(CONTACT_ROLES)))
    return rows


def _timeline(project, owner, path, today):
    """Into the first stage at creation, then one move per stage, spread until today."""
    now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.timezone.utc)
    step = (now - project.created_at) / max(len(path), 1)
    rows, previous = [], None
    for index, stage in enumerate(path):
        rows.append(StageHistory(project_id=project.id, from_stage_id=previous, to_stage_id=stage.id,
                                 changed_by_id=owner.id, changed_at=project.created_at + step * index))
        previous = stage.id
    project.updated_at = rows[-1].changed_at
    return rows


def _follow_ups(rng, project, owner, lead_customer, today):
    customer, contacts = lead_customer
    count = rng.randint(1, 3)
    moments = sorted(core_demo.random_moment(rng, today, 40) for _ in range(count))
    rows = []
    for index, moment in enumerate(moments):
        last = index == count - 1
        # the latest one plans the next step: today, overdue or soon
        due = today + dt.timedelta(days=rng.choice([0, 0, -2, -5, 3, 10])) if last else None
        rows.append(FollowUp(
            customer_id=customer.id, contact_id=contacts[0].id, kind=rng.choice(["visit", "meeting", "call"]),
            content=f"[{project.number}] {rng.choice(NOTES)}", happened_at=moment, next_follow_up=due,
            related_entity="project", related_id=project.id, owner_id=owner.id,
            department_id=owner.department_id, created_at=moment, updated_at=moment))
    return rows
