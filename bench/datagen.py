"""Deterministic row factories for the bench data (customers, contacts, follow-ups).

Rows are plain tuples in the column order of ``*_COLUMNS``; datetimes are naive UTC (the writers convert
them for each database). A single ``random.Random(seed)`` drives everything, so a run is reproducible.
"""
from __future__ import annotations

import datetime as dt
import random

import vocab

CUSTOMER_COLUMNS = (
    "id", "code", "name", "kind", "industry", "level", "source", "status", "province", "city", "address",
    "phone", "email", "website", "credit_rating", "notes", "owner_id", "department_id", "created_at",
    "updated_at", "custom", "deleted_at", "version",
)
CONTACT_COLUMNS = (
    "id", "customer_id", "name", "is_primary", "title", "mobile", "phone", "email", "birthday", "wechat",
    "notes", "owner_id", "department_id", "created_at", "updated_at", "custom", "deleted_at", "version",
)
FOLLOW_UP_COLUMNS = (
    "id", "customer_id", "contact_id", "kind", "content", "happened_at", "next_follow_up", "related_entity",
    "related_id", "owner_id", "department_id", "created_at", "updated_at", "custom", "deleted_at", "version",
)

EPOCH = dt.datetime(2022, 1, 1)
SPAN_SECONDS = 3 * 365 * 86400
STATUSES = ["potential"] * 5 + ["intention"] * 3 + ["closed"] * 2
LEVELS = ["A", "B", "B", "C", "C", "C", "D", "D"]
SOURCES = ["referral", "website", "exhibition", "cold_call", "advertising", "other"]
CREDIT = [None, None, "AAA", "AA", "A", "B"]
FOLLOW_UP_KINDS = ["call", "call", "visit", "email", "wechat", "meeting"]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158",
                   "159", "176", "177", "180", "181", "186", "187", "188", "189", "199"]


def zipf_weights(n: int, exponent: float = 1.1) -> list[float]:
    """Weight of rank r is 1/r^exponent: a few reps own most customers, the long tail owns little."""
    return [1.0 / (rank ** exponent) for rank in range(1, n + 1)]


class Generator:
    """Produces rows batch by batch; ``owners`` is a list of (user_id, department_id) in Zipf rank order."""

    def __init__(self, seed: int, owners: list[tuple[int, int]], contacts_fraction: float,
                 followups_fraction: float):
        self.rng = random.Random(seed)
        self.owners = owners
        weights = zipf_weights(len(owners))
        total = sum(weights)
        acc, self.owner_cum = 0.0, []
        for w in weights:
            acc += w / total
            self.owner_cum.append(acc)
        self.contacts_fraction = contacts_fraction
        self.followups_fraction = followups_fraction
        self.next_contact_id = 1
        self.next_follow_up_id = 1

    # ------------------------------------------------------------------ small pieces
    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def person(self) -> tuple[str, str]:
        """(display name, e-mail local part)."""
        rng = self.rng
        if rng.random() < 0.85:
            surname, given = rng.choice(vocab.SURNAMES), rng.choice(vocab.GIVEN_NAMES)
            return surname[0] + given[0], f"{given[1]}.{surname[1]}"
        first, last = rng.choice(vocab.FIRST_NAMES_EN), rng.choice(vocab.LAST_NAMES_EN)
        return f"{first} {last}", f"{first}.{last}".lower()

    def company(self):
        """(name, kind, industry, city tuple, e-mail domain, website)."""
        rng = self.rng
        city = rng.choice(vocab.CITIES)
        word = rng.choice(vocab.WORDS)
        industry = rng.choice(vocab.INDUSTRIES)
        roll = rng.random()
        domain = f"{word[1]}{rng.randrange(1000)}.com.cn"
        if roll < 0.62:
            name = city[0] + word[0] + industry[0] + rng.choice(vocab.SUFFIXES_CN)
        elif roll < 0.85:
            prefix = f"{city[1]} " if rng.random() < 0.5 else ""
            name = f"{prefix}{word[2]} {industry[1]} {rng.choice(vocab.SUFFIXES_EN)}"
            domain = f"{word[2].replace(' ', '').lower()}{rng.randrange(1000)}.com"
        else:
            person, local = self.person()
            return person, "individual", None, city, None, local
        return name, "company", industry[1], city, domain, f"https://www.{domain}"

    def moment(self, customer_index: int, total: int) -> dt.datetime:
        """Creation time roughly increasing with the id, as in a real, growing customer table."""
        base = SPAN_SECONDS * customer_index / max(total, 1)
        return EPOCH + dt.timedelta(seconds=int(base + self.rng.randrange(-86400, 86400)))

    def owner(self) -> tuple[int, int]:
        r = self.rng.random()
        lo, hi = 0, len(self.owner_cum) - 1
        while lo < hi:  # bisect on the cumulative weights
            mid = (lo + hi) // 2
            if self.owner_cum[mid] < r:
                lo = mid + 1
            else:
                hi = mid
        return self.owners[lo]

    # ------------------------------------------------------------------ rows
    def customers(self, first_id: int, count: int, total: int):
        """(customer rows, contact rows, follow-up rows) for ids ``first_id .. first_id+count-1``."""
        rng = self.rng
        customers, contacts, follow_ups = [], [], []
        for cid in range(first_id, first_id + count):
            name, kind, industry, city, domain, extra = self.company()
            owner_id, department_id = self.owner()
            created = self.moment(cid, total)
            updated = created + dt.timedelta(seconds=rng.randrange(0, 200 * 86400))
            if kind == "individual":
                email = f"{extra}{rng.randrange(100)}@{rng.choice(vocab.MAIL_DOMAINS)}"
                website = None
            else:
                email = f"{rng.choice(('info', 'sales', 'contact', 'service'))}@{domain}"
                website = extra if rng.random() < 0.6 else None
            phone = self.mobile() if kind == "individual" or rng.random() < 0.4 else \
                f"0{rng.randrange(10, 999)}-{rng.randrange(10_000_000, 99_999_999)}"
            deleted = updated if rng.random() < 0.005 else None
            customers.append((
                cid, f"C{cid:08d}", name, kind, industry, rng.choice(LEVELS), rng.choice(SOURCES),
                rng.choice(STATUSES), city[2], city[0],
                f"{city[0]}市{rng.choice(vocab.ROADS)}{rng.randrange(1, 999)}号",
                phone, email, website, rng.choice(CREDIT), None if rng.random() < 0.8 else "重要客户，注意维护",
                owner_id, department_id, created, updated, "{}", deleted, 1,
            ))
            contact_ids = self._contacts(contacts, cid, owner_id, department_id, created, domain)
            self._follow_ups(follow_ups, cid, contact_ids, owner_id, department_id, created)
        return customers, contacts, follow_ups

    def _contacts(self, out, cid, owner_id, department_id, created, domain):
        rng = self.rng
        if rng.random() >= self.contacts_fraction:
            return []
        ids = []
        for n in range(rng.randint(1, 2)):
            name, local = self.person()
            mail_domain = domain or rng.choice(vocab.MAIL_DOMAINS)
            birthday = dt.date(1960 + rng.randrange(40), rng.randint(1, 12), rng.randint(1, 28)) \
                if rng.random() < 0.3 else None
            out.append((
                self.next_contact_id, cid, name, n == 0, rng.choice(vocab.TITLES), self.mobile(), None,
                f"{local}@{mail_domain}", birthday, f"wx_{local.replace('.', '_')}{rng.randrange(100)}"
                if rng.random() < 0.5 else None, None, owner_id, department_id, created, created, "{}", None, 1,
            ))
            ids.append(self.next_contact_id)
            self.next_contact_id += 1
        return ids

    def _follow_ups(self, out, cid, contact_ids, owner_id, department_id, created):
        rng = self.rng
        if rng.random() >= self.followups_fraction:
            return
        for _ in range(rng.randint(1, 3)):
            when = created + dt.timedelta(seconds=rng.randrange(0, 300 * 86400))
            template = rng.choice(vocab.FOLLOW_UP_TEMPLATES)
            content = template.format(product=rng.choice(vocab.PRODUCTS), attitude=rng.choice(vocab.ATTITUDES),
                                      product_en=rng.choice(vocab.PRODUCTS_EN),
                                      attitude_en=rng.choice(vocab.ATTITUDES_EN))
            next_date = (when + dt.timedelta(days=rng.randint(3, 30))).date() if rng.random() < 0.4 else None
            out.append((
                self.next_follow_up_id, cid, rng.choice(contact_ids) if contact_ids else None,
                rng.choice(FOLLOW_UP_KINDS), content, when, next_date, None, None, owner_id, department_id,
                when, when, "{}", None, 1,
            ))
            self.next_follow_up_id += 1
