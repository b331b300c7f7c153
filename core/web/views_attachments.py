"""Upload, download and removal of attachments (rules in ``core.attachments``)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file

from core import attachments, services
from core.authz import login_required_only, requires
from core.i18n import _
from core.runtime import current, db
from core.web import bp
from core.web.common import ID, detail_url, entity_permission, scope, spec_or_404
from core.web.responses import content_disposition


@bp.route(f"/attachments/<entity>/<{ID}:record_id>", methods=["POST"])
@requires(entity_permission("edit"))
def attachment_upload(entity, record_id):
    spec = spec_or_404(entity)
    upload = request.files.get("file")
    back = detail_url(spec, record_id)
    if upload is None or not upload.filename:
        _editable_or_404(spec, record_id)
        flash(_("Choose a file to upload."), "error")
        return redirect(back)
    try:
        attachments.upload(db(), spec, record_id, upload.stream, upload.filename, scope().user_id,
                           current_app.config)
    except services.NotFound:
        abort(404)
    except attachments.UploadRejected as err:
        return render_template("errors/upload.html", message=str(err.message), back=back), err.status
    flash(_("File uploaded."), "success")
    return redirect(back + "#attachments")


def _editable_or_404(spec, record_id):
    try:
        services.get(db(), spec, record_id, action="edit")
    except services.NotFound:
        abort(404)


@bp.route(f"/attachments/<{ID}:attachment_id>")
@login_required_only
def attachment_download(attachment_id):
    try:
        attachment, _spec = attachments.get_for(db(), current().entities, attachment_id)
        path = attachments.file_path(current_app.config, attachment)
    except services.NotFound:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name="download", max_age=0)
    response.headers["Content-Disposition"] = content_disposition(attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route(f"/attachments/<{ID}:attachment_id>/delete", methods=["POST"])
@login_required_only
def attachment_delete(attachment_id):
    try:
        attachment = attachments.delete(db(), current().entities, attachment_id, scope().user_id,
                                        current_app.config)
    except services.NotFound:
        abort(404)
    flash(_("Attachment removed."), "success")
    spec = current().entities[attachment.entity]
    return redirect(detail_url(spec, attachment.record_id) + "#attachments")
