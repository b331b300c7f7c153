"""The module's own pages: the 回款 action (prefilled payment form), applying a pre-receipt, the receivables
and ageing reports (with CSV). Every view is declared with ``core.authz``; rules live in ``services``; rows
come through the request's scoped session."""
from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from core import services as core_services
from core.authz import has, requires
from core.i18n import _, plain
from core.runtime import current, db
from core.web.common import ID, detail_url, safe_next
from core.web.export import defuse_formula
from plugins.payments import panels, services
from plugins.payments.schemas import ApplySchema

bp = Blueprint("payments", __name__, url_prefix="/payments", template_folder="templates")


def _load(entity, record_id, action="view"):
    try:
        return core_services.get(db(), current().entities[entity], record_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _errors(err: ValidationError) -> dict:
    messages = plain(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    return {name: value if isinstance(value, list) else [value] for name, value in messages.items()}


def today() -> dt.date:
    return dt.date.today()


# ------------------------------------------------------------------ 回款: the prefilled payment form

@bp.route(f"/plans/<{ID}:plan_id>/pay")
@requires("payments.payment.create")
def pay(plan_id):
    """One click on an unpaid or partly paid plan: the payment form, prefilled with the plan, its customer and
    currency, the remaining amount and today's date. Saving it updates the plan in the same transaction."""
    plan = _load("payment_plan", plan_id)
    back = safe_next(request.args.get("next"), detail_url(current().entities["payment_plan"], plan.id))
    if plan.status == "paid":
        flash(_("This plan is paid in full."), "info")
        return redirect(back)
    return redirect(url_for("web.record_new", entity="payment", **services.payment_prefill(plan, today()),
                            next=back))


# ------------------------------------------------------------------ pre-receipts

@bp.route(f"/prereceipts/<{ID}:prereceipt_id>/apply", methods=["GET", "POST"])
@requires("payments.payment.create")
def apply(prereceipt_id):
    prereceipt = _load("prereceipt", prereceipt_id, "edit")
    if request.method == "GET":
        return _apply_form(prereceipt, {"applied_on": today().isoformat(), "plan_id": request.args.get("plan_id", "")},
                           {})
    typed = {name: request.form.get(name, "") for name in ("plan_id", "amount", "applied_on", "note")}
    try:
        data = ApplySchema().load({k: v for k, v in typed.items() if v.strip()})
        services.apply_prereceipt(db(), current().entities, prereceipt.id, data["plan_id"], data["amount"],
                                  data["applied_on"], data.get("note"))
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _apply_form(prereceipt, typed, _errors(err), 422)
    except core_services.NotFound:
        abort(404)
    flash(_("Pre-receipt applied."), "success")
    return redirect(detail_url(current().entities["prereceipt"], prereceipt.id))


def _apply_form(prereceipt, values, errors, status=200):
    db().rollback()  # nothing half-done stays in the session while the page is drawn
    prereceipt = _load("prereceipt", prereceipt.id, "edit")
    return render_template("payments/apply_form.html", prereceipt=prereceipt, values=values, errors=errors,
                           plans=services.open_plans_for(db(), prereceipt),
                           status_labels=panels._common()["status_labels"]), status


# ------------------------------------------------------------------ reports

@bp.route("/receivables")
@requires("payments.report.view")
def receivables():
    rows = services.receivables(db()) if has("payments.plan.view") else []
    return render_template("payments/receivables.html", rows=rows, totals=_totals(rows))


def _totals(rows) -> dict:
    totals: dict = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {"due": 0, "received": 0, "outstanding": 0, "overdue": 0})
        for key in total:
            total[key] += row[key]
    return dict(sorted(totals.items()))


def _report_day():
    try:
        return dt.date.fromisoformat(request.args.get("on", ""))
    except ValueError:
        return today()


@bp.route("/ageing")
@requires("payments.report.view")
def ageing():
    """Outstanding plan amounts by days past due, per customer and currency, with a bar chart per currency."""
    report = services.ageing(db(), _report_day()) if has("payments.plan.view") else {"rows": [], "totals": {},
                                                                                       "today": today()}
    labels = [str(services.BUCKET_LABELS[b]) for b in services.BUCKETS]
    charts = {currency: {"labels": labels, "values": [float(total[b]) for b in services.BUCKETS]}
              for currency, total in report["totals"].items()}  # Chart.js wants numbers; the table is exact
    return render_template("payments/ageing.html", report=report, buckets=services.BUCKETS,
                           bucket_labels=services.BUCKET_LABELS, charts=charts)


@bp.route("/ageing.csv")
@requires("payments.report.view")
def ageing_csv():
    report = services.ageing(db(), _report_day()) if has("payments.plan.view") else {"rows": [], "totals": {}}
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    labels = [str(services.BUCKET_LABELS[b]) for b in services.BUCKETS]
    writer.writerow([_("Customer"), _("Currency"), *labels, _("Total")])
    for row in report["rows"]:
        writer.writerow([defuse_formula(row["customer"] or f"#{row['customer_id']}"), row["currency"],
                         *[str(row[b]) for b in services.BUCKETS], str(row["total"])])
    for currency, total in report["totals"].items():
        writer.writerow([_("Total"), currency, *[str(total[b]) for b in services.BUCKETS], str(total["total"])])
    filename = f"ageing-{report.get('today', today()).isoformat()}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
