"""Set-based import of a retail transaction file (UCI "Online Retail" layout) as customers, products and
orders with their lines.

    guanxi orders import-retail onlineretail.csv.gz --owner rep01
    jobs.enqueue(app, "orders.import_retail", path=..., owner_id=..., importer_id=...)
    import_retail(session, path, owner_id=..., department_id=...)      # session: the importer's scope

Columns: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country (plain or
gzip CSV). The file is streamed: lines are read in batches of whole invoices (``BATCH_LINES``); each batch
looks up its customers, products and already imported orders in a few set-based SELECTs, inserts what is
new with one Core executemany per table (no ORM object per row), indexes the new records for the global
search, writes one audit entry per created record and commits. A failure loses at most the batch at hand;
running the import again finishes it (see idempotency).

Decisions (one place, so the tests and the bench README can point here):

* **One order per InvoiceNo**, ``external_ref`` = InvoiceNo, ``number`` from ``core.numbering``
  ("orders.order", "SO", width 6, in the year of the invoice), reserved as one block per batch and year.
  ``ordered_on`` = date of the invoice's first line (a few invoices span two minutes across midnight-free
  times; the first wins). Lines keep the file's order as ``position``.
* **Customers**: code = CustomerID, name "Customer <id>", the Country in ``address`` (core customers have no
  country column); the first country seen wins. Lines **without CustomerID** (135,080 in the UCI file) go to
  one walk-in customer per country: code "WALK-IN <Country>", name "Walk-in (<Country>)", so no sale is lost
  and the totals per country still add up.
* **Products**: code = StockCode, name = Description of the first line seen (the code when it is empty),
  price = its first unit price, currency = the import's. Codes are matched **case-insensitively**
  ("85123a" is "85123A"): MariaDB's collation treats them as one value in the unique index anyway, and the
  three databases must give the same result. Postage, manual and fee codes (POST, M, D, BANK CHARGES …) are
  products like any other.
* **Money**: ``core.money.line_amounts(quantity, unit price, 0, 0, currency)``; tax 0 (the file has none);
  order subtotal/total = sum of the rounded line nets. Unit prices with more minor digits than the currency
  has (4 lines at 0.001 GBP) are rounded to it (``quantize``) and counted in ``prices_rounded``.
* **Status**: invoices are completed sales: status "completed", every line's ``shipped_quantity`` = its
  quantity (delivered; no shipment rows are written). Invoices "C…" are cancellations: status "cancelled",
  negative quantities and totals as in the file, nothing shipped. Invoices "A…" (bad-debt adjustments, not
  sales) are skipped and counted in ``adjustment_lines``.
* **Idempotency**: an invoice whose (customer, InvoiceNo) already has an order — any owner, deleted ones
  too — is skipped (``orders_existing``); customers and products are matched by code. Importing the same
  file twice creates nothing the second time. An invoice whose lines are split across two batches is
  continued (lines appended, totals raised) when its order was created by the same run.
* **Scope**: orders and new customers get the chosen owner (default: the importer) and the owner's
  department (or ``department_id``), which the importer must be allowed to assign. An existing customer the
  importer may not see (another team's, or deleted) is not touched: its invoices are skipped and counted in
  ``lines_out_of_scope``. The importer needs orders.order.create and core.customer.create; products are
  created only by someone holding core.product.create (boss, admin, procurement, the command line) —
  for anyone else a line with an unknown stock code keeps its description and amounts without a product
  (``lines_without_product``).
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
import json
import time
from dataclasses import asdict, dataclass, field
from typing import NamedTuple
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from sqlalchemy import Numeric, String, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from core import jobs
from core.db import utcnow
from core.imports import bulk
from core.models import AuditEntry, Customer, Product, User
from core.money import line_amounts, quantize
from core.numbering import reserve_numbers
from core.scope import current_scope, system_scope
from core.services import Forbidden
from plugins.orders.models import Order, OrderLine
from plugins.orders.statuses import CANCELLED, COMPLETED

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
           "Country")
BATCH_LINES = 20_000  # lines read before a batch is written (whole invoices; memory is bounded by it)
CHUNK = 900  # values per IN (...) list (SQLite allows 999 host parameters in older builds)
NUMBER_KEY, NUMBER_PREFIX, NUMBER_WIDTH = "orders.order", "SO", 6
SOURCE = "retail import"
ZERO = Decimal(0)


LINE_COLUMNS = ("order_id", "position", "product_id", "description", "quantity", "unit_price", "discount_percent",
                "tax_rate_percent", "net", "tax", "gross", "shipped_quantity", "returned_quantity")
PAGE_ROWS = 20_000  # order lines per INSERT statement


class RetailImportError(ValueError):
    """The file cannot be imported (not a CSV with the expected columns)."""


@dataclass
class RetailImportStats:
    lines_read: int = 0
    invoices: int = 0
    orders_created: int = 0
    orders_cancelled: int = 0  # of orders_created: "C…" invoices
    orders_existing: int = 0  # skipped: imported before
    orders_continued: int = 0  # invoices split across batches, continued
    lines_created: int = 0
    customers_created: int = 0
    walk_in_customers_created: int = 0
    products_created: int = 0
    lines_without_customer: int = 0  # booked on the walk-in customer of their country
    lines_out_of_scope: int = 0  # their customer exists but the importer may not see it
    lines_without_product: int = 0  # unknown stock code and the importer may not create products
    adjustment_lines: int = 0  # "A…" invoices, skipped
    bad_lines: int = 0  # unreadable quantity/price/date, skipped
    prices_rounded: int = 0
    seconds: float = 0.0
    errors: list = field(default_factory=list)  # first few bad lines: (line number, reason)
    phases: dict = field(default_factory=dict)  # seconds per phase (read, customers, …, commit): the bench prints it

    def as_dict(self) -> dict:
        return asdict(self)


# ============================================================================================ reading

def _text_stream(source):
    """A text stream over ``source`` (path or binary/text file), gunzipped when it starts like gzip."""
    if isinstance(source, (str, Path)):
        raw = open(source, "rb")
    elif isinstance(source, io.TextIOBase):
        return source
    else:
        raw = source
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else None
    if head is None:
        head = raw.read(2)
        raw.seek(0)
    if head == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


class Line(NamedTuple):
    number: int  # line number in the file (header = 1)
    stock_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal  # as in the file


@dataclass
class Invoice:
    ref: str
    customer_code: str  # CustomerID or the walk-in code
    country: str
    on: dt.date
    walk_in: bool
    lines: list = field(default_factory=list)


def _walk_in_code(country: str) -> str:
    return f"WALK-IN {country}"[:40]


def read_batches(source, stats: RetailImportStats, batch_lines: int = BATCH_LINES):
    """Yield lists of whole ``Invoice``s, about ``batch_lines`` lines each (a batch ends where an invoice
    does; an invoice whose lines are not contiguous in the file may show up again in a later batch)."""
    reader = csv.reader(_text_stream(source))
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:len(COLUMNS)]] != list(COLUMNS):
        raise RetailImportError(f"expected the columns {', '.join(COLUMNS)}; found {header!r:.200}")
    batch: dict[str, Invoice] = {}
    in_batch, last_ref, lines_read = 0, None, 0
    decimals: dict[str, Decimal] = {}  # the file repeats few quantities and prices: parse each once
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        lines_read += 1
        ref = row[0].strip()
        if ref != last_ref and in_batch >= batch_lines:
            stats.lines_read = lines_read - 1
            yield list(batch.values())
            batch, in_batch = {}, 0
        last_ref = ref
        if ref.startswith("A"):
            stats.adjustment_lines += 1
            continue
        try:
            quantity, unit_price = decimals.get(row[3]), decimals.get(row[5])
            if quantity is None:
                quantity = decimals[row[3]] = Decimal(row[3])
            if unit_price is None:
                unit_price = decimals[row[5]] = Decimal(row[5])
            if not quantity.is_finite() or not unit_price.is_finite():
                raise ValueError(f"not a number: {row[3]!r} / {row[5]!r}")
            invoice = batch.get(ref)
            if invoice is None:
                if not ref:
                    raise ValueError("no InvoiceNo")
                customer_id, country = row[6].strip(), row[7].strip()
                invoice = Invoice(ref, customer_id or _walk_in_code(country), country,
                                  dt.date.fromisoformat(row[4][:10]), not customer_id)
            code = row[1].strip()
            if not code:
                raise ValueError("no StockCode")
        except (InvalidOperation, ValueError, IndexError) as exc:
            stats.bad_lines += 1
            if len(stats.errors) < 20:
                stats.errors.append((number, str(exc)[:200]))
            continue
        batch[ref] = invoice
        if invoice.walk_in:
            stats.lines_without_customer += 1
        invoice.lines.append(Line(number, code, row[2].strip(), quantity, unit_price))
        in_batch += 1
    stats.lines_read = lines_read
    if batch:
        yield list(batch.values())


# ============================================================================================ writing

def insert_rows(session, table, columns, rows) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table`` in the session's transaction.

    An executemany costs SQLAlchemy several microseconds per row and per column (each row's parameters are
    rebuilt against the compiled statement and each value goes through its bind processor): for half a
    million order lines, most of the import. Here a page of rows travels as ONE bound value that the database
    unpacks itself, still a Core ``INSERT … SELECT`` (the technique of ``core.search.bulk``):
    SQLite reads a JSON array with ``json_each`` (Decimals as their exact text; the NUMERIC column affinity
    stores them as SQLAlchemy's own binding would), PostgreSQL one array per column with ``unnest`` (Decimals
    as text, cast by the server). MariaDB: ``core.imports.bulk.executemany`` (PyMySQL already sends an
    executemany as multi-row INSERTs). A column with the same value in every row of a page is bound once with
    its column type. Values: str, int, bool, Decimal, date, None — datetimes only as such page constants
    (SQLite would otherwise get their ``str``, not SQLAlchemy's storage format).
    """
    writer = _PACKED.get(session.get_bind().dialect.name)
    for start in range(0, len(rows), PAGE_ROWS):
        page = rows[start:start + PAGE_ROWS]
        if writer is None:
            bulk.executemany(session, table, [dict(zip(columns, row)) for row in page])
        else:
            writer(session, table, columns, page)


def _constant_columns(columns, rows) -> dict:
    """{index: value} of the columns with one value in the whole page (discount 0, tax 0 …): bound once."""
    first = rows[0]
    return {i: first[i] for i in range(len(columns)) if all(row[i] == first[i] for row in rows)}


def _sqlite_rows(session, table, columns, rows):
    constant = _constant_columns(columns, rows)
    varying = [i for i in range(len(columns)) if i not in constant]
    document = json.dumps([[row[i] for i in varying] for row in rows], default=str, ensure_ascii=False,
                          check_circular=False)
    each = func.json_each(bindparam("rows", document, type_=String)).table_valued("value")
    position = {i: n for n, i in enumerate(varying)}
    values = [bindparam(f"k{i}", constant[i], type_=table.c[columns[i]].type) if i in constant
              else func.json_extract(each.c.value, f"$[{position[i]}]") for i in range(len(columns))]
    session.execute(insert(table).from_select(list(columns), select(*values).select_from(each)))


def _postgresql_rows(session, table, columns, rows):
    # Decimals travel as text arrays cast by the server: psycopg's binary Decimal dumper costs microseconds
    # per value in Python, ``str`` a fraction of that
    constant = _constant_columns(columns, rows)
    constant.pop(0, None)  # one array at least: it gives the row count
    values = []
    for i, (name, column_values) in enumerate(zip(columns, zip(*rows))):
        kind = table.c[name].type
        if i in constant:
            values.append(bindparam(f"c{i}", constant[i], type_=kind))
        elif isinstance(kind, Numeric):
            text_values = bindparam(f"c{i}", [None if v is None else str(v) for v in column_values],
                                    type_=ARRAY(String))
            values.append(cast(func.unnest(text_values), kind))
        else:
            values.append(func.unnest(bindparam(f"c{i}", list(column_values), type_=ARRAY(kind))))
    session.execute(insert(table).from_select(list(columns), select(*values)))


_PACKED = {"sqlite": _sqlite_rows, "postgresql": _postgresql_rows}


def _chunks(values, size=CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _Run:
    """One import run: the caches that span batches (codes -> ids) and the writing of one batch."""

    def __init__(self, session, owner, department_id, currency, stats, registry):
        self.session = session
        self.scope = current_scope(session)
        self.owner = owner
        self.department_id = department_id
        self.currency = currency
        self.stats = stats
        self.registry = registry
        self.importer_id = self.scope.user_id
        self.customers: dict[str, int | None] = {}  # code -> id (None: exists, out of the importer's scope)
        self.products: dict[str, int | None] = {}  # upper-cased code -> id (None: not creatable)
        self.run_orders: dict[tuple, list] = {}  # (customer_id, ref) -> [order id, lines so far] (this run)
        self.amounts: dict[tuple, tuple] = {}  # (quantity, unit price) -> (stored price, LineAmounts)

    # ------------------------------------------------------------------ one batch
    def write(self, invoices: list[Invoice]):
        self.stats.invoices += len(invoices)
        now = utcnow()
        with self.phase("customers"):
            self._customers(invoices, now)
        with self.phase("products"):
            self._products(invoices, now)
        with self.phase("orders"):
            fresh, continued = self._split(invoices)
            self._orders(fresh, now)
            self._continue(continued)
        with self.phase("commit"):
            self.session.commit()

    @contextlib.contextmanager
    def phase(self, name):
        """Time spent in ``name``, nested phases excluded (they count for themselves)."""
        phases, started = self.stats.phases, time.perf_counter()
        outer, self._nested = getattr(self, "_nested", 0.0), 0.0
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            phases[name] = phases.get(name, 0.0) + spent - self._nested
            self._nested = outer + spent

    # ------------------------------------------------------------------ customers
    def _customers(self, invoices, now):
        wanted = {}
        for invoice in invoices:
            if invoice.customer_code not in self.customers:
                wanted.setdefault(invoice.customer_code, invoice)
        if not wanted:
            return
        existing, visible = {}, set()
        for codes in _chunks(wanted):
            with system_scope(self.session, "retail import: which customer codes exist"):
                existing.update(self.session.execute(
                    select(Customer.code, Customer.id).where(Customer.code.in_(codes))
                    .execution_options(include_deleted=True)).all())
            visible.update(self.session.execute(select(Customer.id).where(Customer.code.in_(codes))).scalars())
        for code, customer_id in existing.items():
            self.customers[code] = customer_id if customer_id in visible else None
        new = [invoice for code, invoice in wanted.items() if code not in existing]
        if not new:
            return
        self._require("customer", "create")
        rows = [{"code": inv.customer_code,
                 "name": f"Walk-in ({inv.country})" if inv.walk_in else f"Customer {inv.customer_code}",
                 "kind": "company", "address": inv.country or None,
                 "status": "closed", "source": None, "owner_id": self.owner.id,
                 "department_id": self.department_id, "custom": {}, "version": 1,
                 "created_at": now, "updated_at": now} for inv in new]
        ids = self._insert(Customer, rows, "code")
        for row in rows:
            row["id"] = self.customers[row["code"]] = ids[row["code"]]
        self.stats.customers_created += len(rows)
        self.stats.walk_in_customers_created += sum(1 for inv in new if inv.walk_in)
        self._index("customer", rows)
        self._audit("customer", rows, ("code", "name", "address"), now)

    # ------------------------------------------------------------------ products
    def _products(self, invoices, now):
        wanted = {}
        for invoice in invoices:
            if self.customers.get(invoice.customer_code) is None:
                continue  # skipped invoice: its products are not needed
            for line in invoice.lines:
                key = line.stock_code.upper()
                if key not in self.products:
                    wanted.setdefault(key, line)
        if not wanted:
            return
        variants = {v for key, line in wanted.items() for v in (line.stock_code, key, key.lower())}
        for codes in _chunks(variants):
            # the catalogue is company-wide; deleted products keep their code (unique), so they match too
            with system_scope(self.session, "retail import: which product codes exist"):
                for code, product_id in self.session.execute(
                        select(Product.code, Product.id).where(Product.code.in_(codes))
                        .execution_options(include_deleted=True)):
                    self.products.setdefault(code.upper(), product_id)
        new = [(key, line) for key, line in wanted.items() if key not in self.products]
        if not new:
            return
        if not self.scope.has(self.registry["product"].permission("create")):
            for key, _line in new:
                self.products[key] = None  # lines keep their description, without a product
            return
        rows = [{"code": line.stock_code, "name": line.description or line.stock_code,
                 "price": quantize(line.unit_price, self.currency), "currency": self.currency, "active": True,
                 "custom": {}, "version": 1, "created_at": now, "updated_at": now} for _key, line in new]
        ids = self._insert(Product, rows, "code")
        for row in rows:
            row["id"] = self.products[row["code"].upper()] = ids[row["code"]]
        self.stats.products_created += len(rows)
        self._index("product", rows)
        self._audit("product", rows, ("code", "name", "price", "currency"), now)

    # ------------------------------------------------------------------ orders
    def _split(self, invoices):
        """(new invoices, invoices continuing an order of this run); skips known and out-of-scope ones."""
        candidates = []
        for invoice in invoices:
            customer_id = self.customers.get(invoice.customer_code)
            if customer_id is None:
                self.stats.lines_out_of_scope += len(invoice.lines)
            else:
                candidates.append((customer_id, invoice))
        known = set()
        for chunk in _chunks(candidates):
            with system_scope(self.session, "retail import: which invoices were imported"):
                known.update(tuple(row) for row in self.session.execute(
                    select(Order.customer_id, Order.external_ref)
                    .where(Order.external_ref.in_({inv.ref for _cid, inv in chunk}))
                    .execution_options(include_deleted=True)).all())
        fresh, continued = [], []
        for customer_id, invoice in candidates:
            key = (customer_id, invoice.ref)
            if key in self.run_orders:
                continued.append((customer_id, invoice))
            elif key in known:
                self.stats.orders_existing += 1
            else:
                fresh.append((customer_id, invoice))
        return fresh, continued

    def _orders(self, fresh, now):
        if not fresh:
            return
        self._require("order", "create")
        numbers = self._numbers([invoice.on.year for _cid, invoice in fresh])
        orders, lines_of = [], {}
        for (customer_id, invoice), number in zip(fresh, numbers):
            cancelled = invoice.ref.startswith("C")
            lines, net, tax = self._line_rows(invoice, 0, shipped=not cancelled)
            orders.append({"number": number, "customer_id": customer_id, "currency": self.currency,
                           "status": CANCELLED if cancelled else COMPLETED, "ordered_on": invoice.on,
                           "subtotal": net, "tax_total": tax, "total": net + tax,
                           "free_shipping": False, "exception_flag": False, "external_ref": invoice.ref,
                           "owner_id": self.owner.id, "department_id": self.department_id, "custom": {},
                           "version": 1, "created_at": now, "updated_at": now})
            lines_of[number] = (customer_id, invoice.ref, lines)
            self.stats.orders_cancelled += cancelled
        ids = self._insert(Order, orders, "number")
        line_rows = []
        for order in orders:
            order["id"] = order_id = ids[order["number"]]
            customer_id, ref, lines = lines_of[order["number"]]
            line_rows += [(order_id, *line) for line in lines]
            self.run_orders[(customer_id, ref)] = [order_id, len(lines)]
        with self.phase("order lines"):
            insert_rows(self.session, OrderLine.__table__, LINE_COLUMNS, line_rows)
        self.stats.orders_created += len(orders)
        self.stats.lines_created += len(line_rows)
        self._index("order", orders)
        self._audit("order", orders, ("number", "external_ref", "customer_id", "status", "total"), now)

    def _continue(self, continued):
        """Lines of an invoice whose order an earlier batch of this run created: append, raise the totals."""
        for customer_id, invoice in continued:
            order_id, written = self.run_orders[(customer_id, invoice.ref)]
            lines, net, tax = self._line_rows(invoice, written, shipped=not invoice.ref.startswith("C"))
            insert_rows(self.session, OrderLine.__table__, LINE_COLUMNS, [(order_id, *line) for line in lines])
            with system_scope(self.session, "retail import: continue an order of this run"):
                self.session.execute(update(Order).where(Order.id == order_id).values(
                    subtotal=Order.subtotal + net, tax_total=Order.tax_total + tax, total=Order.total + net + tax,
                    version=Order.version + 1).execution_options(synchronize_session=False))
            self.run_orders[(customer_id, invoice.ref)][1] += len(lines)
            self.stats.orders_continued += 1
            self.stats.lines_created += len(lines)

    def _line_rows(self, invoice, first_position, shipped):
        """(the invoice's lines as tuples in ``LINE_COLUMNS`` order without the order id, sum of nets, of taxes)."""
        rows, net, tax = [], ZERO, ZERO
        products = self.products
        for position, line in enumerate(invoice.lines, start=first_position + 1):
            unit_price, amounts = self._amounts(line.quantity, line.unit_price)
            if unit_price != line.unit_price:
                self.stats.prices_rounded += 1
            product_id = products[line.stock_code.upper()]
            if product_id is None:
                self.stats.lines_without_product += 1
            rows.append((position, product_id, line.description[:500], line.quantity,
                         unit_price, ZERO, ZERO, amounts.net, amounts.tax, amounts.gross,
                         line.quantity if shipped else ZERO, ZERO))
            net += amounts.net
            tax += amounts.tax
        return rows, net, tax

    def _amounts(self, quantity, unit_price):
        """(stored unit price, LineAmounts); the UCI file repeats few (quantity, price) pairs: cached."""
        key = (quantity, unit_price)
        found = self.amounts.get(key)
        if found is None:
            price = quantize(unit_price, self.currency)
            found = self.amounts[key] = (price, line_amounts(quantity, price, ZERO, ZERO, self.currency))
        return found

    def _numbers(self, years):
        """One block of numbers per year of the batch, handed out in the invoices' order."""
        needed: dict[int, int] = {}
        for year in years:
            needed[year] = needed.get(year, 0) + 1
        blocks = {year: iter(reserve_numbers(self.session, NUMBER_KEY, NUMBER_PREFIX, count, NUMBER_WIDTH,
                                             on=dt.date(year, 1, 1)))
                  for year, count in sorted(needed.items())}
        return [next(blocks[year]) for year in years]

    # ------------------------------------------------------------------ plumbing
    def _require(self, entity, action):
        spec = self.registry[entity]
        permission = spec.permission(action)
        if not self.scope.has(permission):
            raise Forbidden(permission)
        if spec.scoped and not self.scope.may_assign(spec, self.owner, action):
            raise Forbidden(f"{permission}: owner {self.owner.login}")

    def _insert(self, model, rows, key) -> dict:
        """INSERT ``rows`` (one executemany) and return {row[key]: id} (``key`` is a unique column)."""
        bulk.executemany(self.session, model.__table__, rows)
        column = getattr(model, key)
        ids = {}
        for values in _chunks([row[key] for row in rows]):
            with system_scope(self.session, f"retail import: ids of new {model.__tablename__} rows"):
                ids.update(self.session.execute(select(column, model.id).where(column.in_(values))
                                                .execution_options(include_deleted=True)).all())
        return ids

    def _index(self, entity, rows):
        """Global search tokens of new records (one executemany), when the search module is installed."""
        if self.registry.get(entity) is None:
            return
        try:
            from core.search.index import index_records
        except ImportError:
            return
        with self.phase("search index"):
            index_records(self.session, entity, rows, new=True)

    def _audit(self, entity, rows, fields, now):
        with self.phase("audit"):
            self._write_audit(entity, rows, fields, now)

    def _write_audit(self, entity, rows, fields, now):
        bulk.executemany(self.session, AuditEntry.__table__, [
            {"entity": entity, "record_id": row["id"], "action": "import", "user_id": self.importer_id,
             "at": now, "changes": {"source": [None, SOURCE],
                                    **{name: [None, _plain(row[name])] for name in fields}}}
            for row in rows])


def _plain(value):
    return str(value) if isinstance(value, (Decimal, dt.date)) else value


# ============================================================================================ entry points

def import_retail(session, path_or_file, *, owner_id=None, department_id=None, currency="GBP",
                  batch_lines=BATCH_LINES, registry=None, progress=None) -> RetailImportStats:
    """Import a retail file in the scope of ``session`` (see the module docstring); commits per batch.

    ``owner_id``: owner of the new orders and customers (default: the importer; must be assignable by
    him); ``department_id``: their department (default: the owner's). ``progress(stats)`` after each batch.
    """
    from core.runtime import current

    started = time.perf_counter()
    registry = registry or current().entities
    scope = current_scope(session)
    owner_id = owner_id or scope.user_id
    if owner_id is None:
        raise RetailImportError("an owner is needed (the importer has no user: give owner_id)")
    with system_scope(session, "retail import: load the owner"):
        owner = session.execute(select(User).where(User.id == owner_id)).scalar_one_or_none()
    if owner is None or not owner.active:
        raise RetailImportError(f"no active user with id {owner_id}")
    if department_id is None:
        department_id = owner.department_id
    elif (department_id != owner.department_id and scope.level(registry["order"].permission("create")) != "all"
          and department_id not in scope.team_department_ids):
        raise Forbidden(f"department {department_id}")
    stats = RetailImportStats()
    run = _Run(session, owner, department_id, currency, stats, registry)
    run._require("order", "create")
    for invoices in read_batches(path_or_file, stats, batch_lines):
        run.write(invoices)
        if progress is not None:
            progress(stats)
    stats.seconds = round(time.perf_counter() - started, 3)
    stats.phases = {"read": round(stats.seconds - sum(stats.phases.values()), 3),
                    **{name: round(value, 3) for name, value in stats.phases.items()}}
    return stats


@jobs.task("orders.import_retail")
def import_retail_job(session, path, owner_id=None, importer_id=None, department_id=None, currency="GBP"):
    """The import as a background job: in ``importer_id``'s scope when given (system scope otherwise)."""
    from core.runtime import current
    from core.scope import build_user_scope, set_scope

    if importer_id is not None:
        importer = session.execute(select(User).where(User.id == importer_id)).scalar_one()
        gx = current()
        set_scope(session, build_user_scope(session, importer, gx.entities, gx.hook))
    return import_retail(session, path, owner_id=owner_id or importer_id, department_id=department_id,
                         currency=currency).as_dict()


# ============================================================================================ command line

@click.command("import-retail")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--owner", "owner_login", required=True, help="login of the owner of the new orders and customers")
@click.option("--currency", default="GBP", show_default=True)
@click.option("--batch-lines", default=BATCH_LINES, show_default=True, type=int)
def import_retail_command(file, owner_login, currency, batch_lines):
    """Import a retail transaction file (UCI Online Retail columns, CSV or .csv.gz) as customers, products
    and orders. Idempotent: invoices imported before are skipped."""
    from core.money import is_currency
    from core.runtime import current

    if not is_currency(currency):
        raise click.ClickException(f"unknown currency {currency!r}")
    gx = current()
    with gx.system_session("cli: orders import-retail") as session:
        owner = session.execute(select(User).where(func.lower(User.login) == owner_login.lower())).scalar_one_or_none()
        if owner is None:
            raise click.ClickException(f"no user {owner_login!r}")

        def progress(stats):
            click.echo(f"  {stats.lines_read:,} lines, {stats.orders_created:,} orders", err=True)
        try:
            stats = import_retail(session, file, owner_id=owner.id, currency=currency, batch_lines=batch_lines,
                                  registry=gx.entities, progress=progress)
        except (RetailImportError, Forbidden) as exc:
            raise click.ClickException(str(exc)) from None
    rate = stats.lines_read / stats.seconds if stats.seconds else 0
    click.echo(f"{stats.lines_read:,} lines in {stats.seconds:.1f} s ({rate:,.0f} lines/s)")
    for name, value in stats.as_dict().items():
        if name not in ("errors", "seconds", "lines_read", "phases"):
            click.echo(f"  {name}: {value:,}")
    click.echo("  seconds per phase: " + ", ".join(f"{k} {v:.1f}" for k, v in stats.phases.items()))
    for number, reason in stats.errors:
        click.echo(f"  line {number}: {reason}")


orders_cli = click.Group("orders", help="Orders: bulk tools.", commands=[import_retail_command])
