"""Import pages (upload -> mapping -> preview -> job with progress -> result, error report, undo) and the XLSX
export with its export jobs.

An import job or export job belongs to the user who started it: every page loads it through the service,
which answers NotFound (404 here) for anyone else — its id alone opens nothing (SECURITY.md 9).
"""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from marshmallow import ValidationError

from core import jobs, services
from core.authz import has, login_required_only, requires
from core.exports import jobs as export_jobs  # noqa: F401  (registers the export task)
from core.exports import service as exports
from core.i18n import _, plain
from core.imports import jobs as import_jobs  # noqa: F401  (registers the import tasks)
from core.imports import readers, service
from core.imports.engine import DUPLICATE_MODES, match_options
from core.runtime import current, db
from core.web import bp, display, listing
from core.web.common import config_int, entity_permission, parse_id, scope, spec_or_404
from core.web.pickers import owner_options
from core.web.responses import content_disposition

def _importable(entity):
    spec = spec_or_404(entity)
    if not spec.importable:
        abort(404)
    return spec


def _job(spec, job_id, admin_may=False):
    try:
        return service.get_job(db(), spec.name, job_id, admin_may=admin_may)
    except services.NotFound:
        abort(404)


def _errors_text(err: ValidationError) -> dict:
    return plain(err.messages) if isinstance(err.messages, dict) else {"": [str(m) for m in err.messages]}


# ------------------------------------------------------------------ upload

@bp.route("/import/<entity>/", methods=["GET", "POST"])
@requires(entity_permission("create"))
def import_start(entity):
    spec = _importable(entity)
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a CSV or XLSX file.")
        else:
            try:
                job = service.start(db(), spec, upload.stream, upload.filename, current_app.config)
            except readers.ImportFileError as exc:
                error = str(exc.message)
            else:
                return redirect(url_for("web.import_mapping", entity=spec.name, job_id=job.id))
    return render_template("web/import_start.html", spec=spec, error=error,
                           jobs=service.recent_jobs(db(), spec.name)), (422 if error else 200)


# ------------------------------------------------------------------ mapping

def _mapping_from_form(width):
    return {str(i): request.form.get(f"col_{i}", "") for i in range(width)}


def _options_from_form():
    return {"duplicates": request.form.get("duplicates", "skip"), "match": request.form.get("match") or None,
            "owner_id": parse_id(request.form.get("owner_id")), "new_tags": request.form.get("new_tags", "create")}


@bp.route("/import/<entity>/<int:job_id>/mapping", methods=["GET", "POST"])
@requires(entity_permission("create"))
def import_mapping(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id)
    if job.status not in ("uploaded", "ready"):
        return redirect(url_for("web.import_job", entity=spec.name, job_id=job.id))
    gx = current()
    importer_fields = service.importable_fields_for(db(), spec)
    errors, status = {}, 200
    saved_id = parse_id(request.args.get("saved"))
    saved = service.saved_mapping(db(), spec.name, saved_id) if saved_id else None
    mapping = {int(k): v for k, v in job.mapping.items()} if job.mapping else service.suggest(job, importer_fields,
                                                                                               saved)
    options = dict(job.options or {})
    if request.method == "POST":
        form_mapping, options = _mapping_from_form(len(job.header)), _options_from_form()
        mapping = {int(k): v for k, v in form_mapping.items() if v}
        try:
            service.configure(db(), spec, gx.entities, job, form_mapping, options)
            if request.form.get("save_as", "").strip():
                service.save_mapping(db(), job, request.form["save_as"])
        except ValidationError as err:
            db().rollback()
            errors = _errors_text(err)
        if errors:
            status = 422
        else:
            return redirect(url_for("web.import_preview", entity=spec.name, job_id=job.id))
    return render_template(
        "web/import_mapping.html", spec=spec, job=job, fields=importer_fields, mapping=mapping, options=options,
        errors=errors, saved_mappings=service.saved_mappings(db(), spec.name), saved=saved,
        owners=owner_options(spec, "create") if spec.scoped else [], match_fields=[
            (name, display.label(spec, name)) for name in match_options(spec) if name in importer_fields],
        duplicate_modes=DUPLICATE_MODES, can_update=has(spec.permission("edit")),
        current_user_id=scope().user_id), status


# ------------------------------------------------------------------ preview and run

@bp.route("/import/<entity>/<int:job_id>/preview")
@requires(entity_permission("create"))
def import_preview(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id)
    if job.status != "ready":
        return redirect(url_for("web.import_job", entity=spec.name, job_id=job.id))
    try:
        importer, rows = service.preview(db(), spec, current().entities, job, current_app.config)
    except (ValidationError, readers.ImportFileError) as err:
        db().rollback()
        flash(str(getattr(err, "message", "")) or " ".join(
            m for ms in _errors_text(err).values() for m in ms), "error")
        return redirect(url_for("web.import_mapping", entity=spec.name, job_id=job.id))
    columns = sorted(importer.mapping.items())
    return render_template("web/import_preview.html", spec=spec, job=job, rows=rows, columns=columns,
                           fields=importer.fields, error_text=service.error_text)


@bp.route("/import/<entity>/<int:job_id>/run", methods=["POST"])
@requires(entity_permission("create"))
def import_run(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id)
    if job.status == "ready":
        job.status = "queued"
        db().commit()  # the worker (or the inline test queue) reads the committed row
        jobs.enqueue(current_app._get_current_object(), "core.imports.run", import_id=job.id)
    return redirect(url_for("web.import_job", entity=spec.name, job_id=job.id))


# ------------------------------------------------------------------ progress, result, report, undo

@bp.route("/import/<entity>/<int:job_id>")
@requires(entity_permission("create"))
def import_job(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id, admin_may=True)
    return render_template("web/import_job.html", spec=spec, job=job, **_job_context(job))


@bp.route("/import/<entity>/<int:job_id>/status")
@requires(entity_permission("create"))
def import_status(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id, admin_may=True)
    return render_template("web/import_status.html", spec=spec, job=job, **_job_context(job))


def _job_context(job):
    own = job.user_id == scope().user_id
    return {"own": own, "running": job.status in ("queued", "running", "indexing", "undoing"),
            "has_report": own and service.error_report_path(job, current_app.config) is not None,
            "can_undo": job.status == "done" and (job.created or job.updated)}


@bp.route("/import/<entity>/<int:job_id>/errors.csv")
@requires(entity_permission("create"))
def import_errors(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id)  # the importer only: the report repeats the file's data
    path = service.error_report_path(job, current_app.config)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="text/csv", as_attachment=True, max_age=0)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(
        f"{_('Import errors')}-{job.id}.csv", fallback=f"import-errors-{job.id}.csv")
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.route("/import/<entity>/<int:job_id>/undo", methods=["POST"])
@requires(entity_permission("create"))
def import_undo(entity, job_id):
    spec = _importable(entity)
    job = _job(spec, job_id, admin_may=True)
    if job.status == "done":
        job.status, job.message = "undoing", None
        db().commit()
        jobs.enqueue(current_app._get_current_object(), "core.imports.undo", import_id=job.id,
                     user_id=scope().user_id)
    return redirect(url_for("web.import_job", entity=spec.name, job_id=job.id))


# ------------------------------------------------------------------ XLSX export and export jobs

@bp.route("/r/<entity>/export.xlsx")
@requires(entity_permission("export"))
def record_export_xlsx(entity):
    spec = spec_or_404(entity)
    args = listing.parse_list_args(spec)
    stmt = listing.list_statement(db(), spec, args)
    threshold = config_int("EXPORT_JOB_THRESHOLD", 5000)
    if exports.count_exceeds(db(), spec, stmt, threshold):
        query = {k: v for k, v in request.args.items() if k not in ("cursor", "limit")}
        job = exports.start(db(), spec, "xlsx", {"args": query})
        jobs.enqueue(current_app._get_current_object(), "core.exports.run", export_id=job.id)
        return redirect(url_for("web.export_job", job_id=job.id))
    columns = exports.export_columns(spec)
    data = exports.xlsx_bytes(db(), spec, stmt, args.sort, columns)
    today = dt.datetime.now(display.local_timezone()).date().isoformat()
    response = Response(data, mimetype=exports.MIME["xlsx"])
    response.headers["Content-Disposition"] = content_disposition(f"{spec.label_plural}-{today}.xlsx",
                                                                  fallback=f"{spec.name}-{today}.xlsx")
    return response


def _export_job(job_id):
    try:
        return exports.get_job(db(), job_id)
    except services.NotFound:
        abort(404)


@bp.route("/export/<int:job_id>")
@login_required_only
def export_job(job_id):
    job = _export_job(job_id)
    return render_template("web/export_job.html", job=job, spec=current().entities.get(job.entity),
                           running=job.status in ("queued", "running"))


@bp.route("/export/<int:job_id>/status")
@login_required_only
def export_status(job_id):
    job = _export_job(job_id)
    return render_template("web/export_status.html", job=job, running=job.status in ("queued", "running"))


@bp.route("/export/<int:job_id>/download")
@login_required_only
def export_download(job_id):
    job = _export_job(job_id)
    path = exports.file_path(job, current_app.config)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=exports.MIME[job.file_format], as_attachment=True, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(
        job.filename or f"export-{job.id}.{job.file_format}", fallback=f"export-{job.id}.{job.file_format}")
    response.headers["Content-Security-Policy"] = "sandbox"
    return response
