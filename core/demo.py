"""Demo data: the company 示例科技有限公司 Demo Tech with its departments, a user per stock role, ~300
customers (Chinese and English names, skewed ownership), contacts, follow-ups and products.

Deterministic for a given seed (``random.Random(seed)``), except the passwords, which come from ``secrets``
and are returned once so that ``guanxi demo`` can print them. Rows are written in a few bulk flushes. The
enabled modules then add their own rows through the ``demo_data`` hook (leads, opportunities, projects, pool).
"""
from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from core.models import Contact, Customer, Department, FollowUp, Product, Role, Tag, User
from core.passwords import hash_password, policy_errors
from core.runtime import current

COMPANY = "示例科技有限公司 Demo Tech"

# (key, name, parent key)
DEPARTMENTS = [
    ("hq", COMPANY, None),
    ("east", "华东销售部 East", "hq"),
    ("east1", "华东一组 East-1", "east"),
    ("south", "华南销售部 South", "hq"),
    ("service", "客服部 Service", "hq"),
    ("purchasing", "采购部 Purchasing", "hq"),
    ("it", "信息部 IT", "hq"),
]
# (login, name, department key, stock role, manages department key, share of customers)
USERS = [
    ("boss", "周总 Zhou Zong", "hq", "boss", "hq", 1),
    ("admin", "孙管理 Sun Guanli", "it", "admin", "it", 0),
    ("manager_east", "陈经理 Chen Jingli", "east", "sales_manager", "east", 4),
    ("rep_east1", "王伟 Wang Wei", "east", "salesperson", None, 30),
    ("rep_east2", "李娜 Li Na", "east", "salesperson", None, 18),
    ("rep_east_sub", "张敏 Zhang Min", "east1", "salesperson", "east1", 12),
    ("manager_south", "黄经理 Huang Jingli", "south", "sales_manager", "south", 4),
    ("rep_south1", "刘洋 Liu Yang", "south", "salesperson", None, 22),
    ("rep_south2", "Emily Chen 陈艾米", "south", "salesperson", None, 9),
    ("service", "赵静 Zhao Jing", "service", "service", "service", 0),
    ("procurement", "吴强 Wu Qiang", "purchasing", "procurement", "purchasing", 0),
]

CITIES = {
    "上海": "上海", "北京": "北京", "广州": "广东", "深圳": "广东", "杭州": "浙江", "南京": "江苏",
    "苏州": "江苏", "宁波": "浙江", "武汉": "湖北", "成都": "四川", "重庆": "重庆", "天津": "天津",
    "青岛": "山东", "厦门": "福建", "长沙": "湖南", "合肥": "安徽", "无锡": "江苏", "佛山": "广东",
    "东莞": "广东", "福州": "福建",
}
WORDS = ["华宏", "鼎盛", "恒通", "新源", "金泰", "瑞丰", "宏达", "联创", "天成", "永信", "博远", "中科",
         "盛世", "汇通", "东方", "锦程", "嘉禾", "启明", "正泰", "佳和", "信诚", "卓越", "海纳", "康达", "润华"]
TRADES = [("贸易", "trade"), ("科技", "technology"), ("电子", "electronics"), ("机械", "machinery"),
          ("实业", "industry"), ("物流", "logistics"), ("建材", "construction"), ("医疗器械", "medical"),
          ("化工", "chemicals"), ("食品", "food"), ("纺织", "textiles"), ("软件", "software"),
          ("环保", "environment"), ("信息技术", "it")]
SUFFIXES = ["有限公司", "有限公司", "股份有限公司", "集团有限公司", "有限责任公司"]
EN_PREFIXES = ["Northwind", "Blue Harbor", "Silverline", "Redwood", "Greenfield", "Summit", "Pacific Rim",
               "Evergreen", "Brightstar", "Oakridge", "Riverside", "Golden Gate"]
EN_TRADES = [("Trading", "trade"), ("Logistics", "logistics"), ("Electronics", "electronics"),
             ("Foods", "food"), ("Machinery", "machinery"), ("Software", "software"), ("Medical", "medical")]
EN_SUFFIXES = ["Ltd", "Co., Ltd.", "Inc.", "GmbH", "Pte. Ltd.", "LLC"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀英", "华", "建国", "志强", "海燕", "晓东", "雪梅", "子涵", "浩然"]
EN_FIRST = ["James", "Mary", "John", "Linda", "David", "Susan", "Michael", "Emma", "Peter", "Grace", "Tom",
            "Lucy", "Daniel", "Olivia"]
EN_LAST = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Lee", "Walker", "Hall", "Young", "King", "Wright"]
TITLES = ["总经理", "采购经理", "技术总监", "财务主管", "销售经理", "行政主管", "采购专员", "项目经理"]
EN_TITLES = ["CEO", "Purchasing Manager", "CTO", "Buyer", "Operations Director", "Project Manager"]
FOLLOW_UPS = {
    "call": ["电话沟通了下季度的采购计划", "电话确认了样品的到货情况", "客户来电询问售后服务条款",
             "Called to discuss pricing for the annual contract"],
    "visit": ["上门拜访，介绍了新产品线", "拜访客户工厂，了解生产需求", "陪同技术人员现场调试设备",
              "Visited the office and met the purchasing team"],
    "email": ["发送报价单，客户表示需要内部讨论", "邮件发送了产品资料和案例", "Sent the revised quotation by e-mail"],
    "wechat": ["微信跟进样品反馈", "微信发送了促销活动信息", "客户微信咨询交期"],
    "meeting": ["约定下周到公司参观", "参加客户的年度供应商大会", "Meeting about the framework agreement"],
}
PRODUCTS = [  # (category, base name, base price)
    ("办公设备 Office", "激光打印机 LaserJet", 1899), ("办公设备 Office", "多功能一体机 MFP", 3299),
    ("办公设备 Office", "碎纸机 Shredder", 699), ("办公设备 Office", "投影仪 Projector", 4599),
    ("电子元件 Components", "工业路由器 Router R200", 1280), ("电子元件 Components", "交换机 Switch S24", 2150),
    ("电子元件 Components", "传感器模块 Sensor", 86), ("电子元件 Components", "电源适配器 Adapter", 45),
    ("软件服务 Software", "CRM 年度订阅 Subscription", 9800), ("软件服务 Software", "实施服务 Implementation", 15000),
    ("软件服务 Software", "培训课程 Training", 3000), ("软件服务 Software", "技术支持 Support", 6000),
    ("机械配件 Parts", "轴承 Bearing 6205", 28), ("机械配件 Parts", "齿轮箱 Gearbox", 5600),
    ("机械配件 Parts", "液压泵 Hydraulic pump", 7300), ("机械配件 Parts", "伺服电机 Servo motor", 2380),
    ("耗材 Supplies", "硒鼓 Toner cartridge", 399), ("耗材 Supplies", "A4 复印纸 Paper (箱)", 180),
    ("耗材 Supplies", "标签纸 Labels", 65), ("耗材 Supplies", "包装箱 Cartons", 12),
]
VARIANTS = [("标准版 Standard", Decimal("1.00")), ("专业版 Pro", Decimal("1.45"))]
TAGS = ["VIP", "老客户", "重点跟进", "价格敏感", "Key account"]
PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass
class DemoLogin:
    login: str
    name: str
    role: str
    department: str
    password: str | None  # None: the account existed already, its password is unchanged


SALES_ROLES = ("salesperson", "sales_manager")


def sales_staff(users: dict[str, User]) -> list[User]:
    """The demo users who may own sales rows (``demo_data`` hook), in login order."""
    return [users[login] for login in sorted(users) if {role.key for role in users[login].roles} & set(SALES_ROLES)]


def random_password(context=()) -> str:
    """16 random characters that pass the password policy."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
        if not policy_errors(password, context=context):
            return password


def generate(session, seed: int = 2024, customers: int = 300, today: dt.date | None = None) -> list[DemoLogin]:
    """Write the demo company into ``session`` (a system-scope session) and commit; return the logins."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    departments = _departments(session)
    logins, users = _users(session, departments)
    _products(session, rng)
    session.flush()
    made = _customers(session, rng, users, customers, today)
    _module_demos(session=session, users={user.login: user for user, _share in users}, customers=made, seed=seed,
                  today=today)
    session.commit()
    return logins


def _module_demos(**arguments):
    """Each module's ``demo_data``, in dependency order: a module's demo reads the rows of the modules it
    requires (invoices need payments, payments need contracts and orders), and pluggy would call them last
    registered first."""
    gx = current()
    rank = {plugin: position for position, (_name, plugin) in enumerate(gx.pm.list_name_plugin())}
    for impl in sorted(gx.hook.demo_data.get_hookimpls(), key=lambda impl: rank.get(impl.plugin, -1)):
        impl.function(*[arguments[name] for name in impl.argnames])


def _departments(session) -> dict[str, Department]:
    """The demo tree; departments with the same name and parent are reused (``--force`` runs)."""
    made: dict[str, Department] = {}
    for key, name, parent_key in DEPARTMENTS:
        parent = made.get(parent_key)
        dept = session.execute(select(Department).where(
            Department.name == name,
            Department.parent_id == parent.id if parent else Department.parent_id.is_(None))).scalar()
        if dept is None:
            dept = Department(name=name, parent_id=parent.id if parent else None)
            session.add(dept)
            session.flush()
            dept.path = f"{parent.path if parent else '/'}{dept.id}/"
        made[key] = dept
    return made


def _users(session, departments):
    roles = {r.key: r for r in session.execute(select(Role)).scalars()}
    existing = {u.login: u for u in session.execute(select(User)).scalars()}
    logins, users, new = [], [], []
    for login, name, dept_key, role_key, manages, share in USERS:
        dept = departments[dept_key]
        user, password = existing.get(login), None
        if user is None:
            email = f"{login}@demo.example.com"
            password = random_password([login, name, email, "guanxi"])
            user = User(login=login, name=name, email=email, department_id=dept.id, active=True, language=None)
            user.roles = [roles[role_key]]
            session.add(user)
            new.append((user, password))
        logins.append(DemoLogin(login, name, role_key, dept.name, password))
        users.append((user, share))
    # Argon2 is slow on purpose: hash each password once, several at a time (the C code releases the GIL).
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        hashes = list(pool.map(hash_password, [password for _user, password in new]))
    for (user, _password), password_hash in zip(new, hashes):
        user.password_hash = password_hash
    session.flush()
    for login, _name, _dept, _role, manages, _share in USERS:
        if manages and departments[manages].manager_id is None:
            departments[manages].manager_id = next(u.id for u, _ in users if u.login == login)
    return logins, users


def _free_codes(session, model, prefix, count):
    taken = set(session.execute(select(model.code).execution_options(include_deleted=True)).scalars())
    codes, n = [], 1
    while len(codes) < count:
        code = f"{prefix}{n:05d}"
        if code not in taken:
            codes.append(code)
        n += 1
    return codes


def _products(session, rng):
    items = [(cat, f"{base} {variant}", Decimal(price) * factor)
             for cat, base, price in PRODUCTS for variant, factor in VARIANTS]
    codes = _free_codes(session, Product, "P", len(items))
    rows = []
    for code, (category, name, price) in zip(codes, items):
        price = price.quantize(Decimal("1"))
        cost = (price * Decimal(rng.randint(50, 80)) / 100).quantize(Decimal("0.01"))
        rows.append(Product(code=code, name=name, category=category, unit="件", price=price, cost=cost,
                            currency="CNY", active=rng.random() > 0.05))
    session.add_all(rows)


# company_name, person, mobile and random_moment also serve the modules' demo data (demo_data hook)
def company_name(rng, used):
    while True:
        if rng.random() < 0.12:
            trade, industry = rng.choice(EN_TRADES)
            name = f"{rng.choice(EN_PREFIXES)} {trade} {rng.choice(EN_SUFFIXES)}"
            city, english = rng.choice(["上海", "深圳", "苏州", "广州"]), True
        else:
            city = rng.choice(list(CITIES))
            trade, industry = rng.choice(TRADES)
            name, english = f"{city}{rng.choice(WORDS)}{trade}{rng.choice(SUFFIXES)}", False
        if name not in used:
            used.add(name)
            return name, city, industry, english


def person(rng, english):
    if english or rng.random() < 0.1:
        return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}", rng.choice(EN_TITLES), True
    return rng.choice(SURNAMES) + rng.choice(GIVEN), rng.choice(TITLES), False


def mobile(rng):
    return "1" + rng.choice("3456789") + "".join(rng.choice(string.digits) for _ in range(9))


def random_moment(rng, today, days_back):
    day = today - dt.timedelta(days=rng.randint(0, days_back))
    return dt.datetime.combine(day, dt.time(rng.randint(1, 10), rng.randint(0, 59)), tzinfo=dt.timezone.utc)


def _customers(session, rng, users, count, today):
    owners = [u for u, share in users if share]
    weights = [share for _u, share in users if share]

    def owned(rng):
        owner = rng.choices(owners, weights)[0]
        return owner.id, owner.department_id
    return make_customers(session, rng, count, today, owned)


def make_customers(session, rng, count, today, owner_and_department, follow_ups=True):
    """Add ``count`` companies with 1-3 contacts each (and follow-ups unless told not to); return the
    ``[(customer, contacts)]`` written. ``owner_and_department(rng)`` gives each one's ``(owner_id,
    department_id)``: the customer pool's demo asks it for owner-less customers."""
    tags = _tags(session)
    codes = _free_codes(session, Customer, "C", count)
    used = set(session.execute(select(Customer.name).execution_options(include_deleted=True)).scalars())
    rows = []
    for code in codes:
        owner_id, department_id = owner_and_department(rng)
        name, city, industry, english = company_name(rng, used)
        created = random_moment(rng, today, 365)
        customer = Customer(
            code=code, name=name, kind="company", industry=industry, city=city, province=CITIES[city],
            status=rng.choices(["potential", "intention", "closed"], [5, 3, 2])[0],
            level=rng.choices(["A", "B", "C", "D"], [1, 3, 5, 2])[0],
            source=rng.choice(["referral", "website", "exhibition", "cold_call", "advertising", "other"]),
            phone=f"0{rng.randint(10, 999)}-{rng.randint(2000000, 89999999)}",
            owner_id=owner_id, department_id=department_id, created_at=created, updated_at=created,
            tags=rng.sample(tags, rng.choice([0, 0, 0, 1, 1, 2])))
        rows.append((customer, english))
    session.add_all([c for c, _ in rows])
    session.flush()
    contacts = _contacts(rng, rows)
    session.add_all([c for c, _customer in contacts])
    session.flush()
    if follow_ups:
        session.add_all(_follow_ups(rng, contacts, today))
    by_customer = {customer.id: (customer, []) for customer, _english in rows}
    for contact, customer in contacts:
        by_customer[customer.id][1].append(contact)
    return list(by_customer.values())


def _tags(session):
    existing = {t.name: t for t in session.execute(select(Tag).where(Tag.name.in_(TAGS))).scalars()}
    return [existing.get(name) or Tag(name=name) for name in TAGS]


def _contacts(rng, customers):
    contacts = []
    for customer, english in customers:
        for index in range(rng.randint(1, 3)):
            name, title, latin = person(rng, english)
            email = f"{name.split()[0].lower()}.{rng.randint(1, 99)}@example.com" if latin else None
            contact = Contact(customer_id=customer.id, name=name, title=title, is_primary=index == 0,
                              mobile=mobile(rng), email=email, owner_id=customer.owner_id,
                              department_id=customer.department_id, created_at=customer.created_at,
                              updated_at=customer.created_at)
            contacts.append((contact, customer))
    return contacts


def _follow_ups(rng, contacts, today):
    by_customer: dict[int, list] = {}
    for contact, customer in contacts:
        by_customer.setdefault(customer.id, [customer, []])[1].append(contact)
    rows = []
    for customer, people in by_customer.values():
        moments = sorted(random_moment(rng, today, 90) for _ in range(rng.randint(1, 5)))
        for index, moment in enumerate(moments):
            kind = rng.choice(list(FOLLOW_UPS))
            rows.append(FollowUp(
                customer_id=customer.id, contact_id=rng.choice(people).id, kind=kind,
                content=rng.choice(FOLLOW_UPS[kind]), happened_at=moment,
                next_follow_up=_next_date(rng, today) if index == len(moments) - 1 else None,
                owner_id=customer.owner_id, department_id=customer.department_id,
                created_at=moment, updated_at=moment))
    return rows


def _next_date(rng, today):
    """The latest follow-up of a customer plans the next one: today, overdue, upcoming or none."""
    choice = rng.choices(["today", "overdue", "future", "none"], [1, 2, 4, 3])[0]
    if choice == "today":
        return today
    if choice == "overdue":
        return today - dt.timedelta(days=rng.randint(1, 14))
    if choice == "future":
        return today + dt.timedelta(days=rng.randint(1, 30))
    return None
