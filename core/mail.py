"""Outgoing e-mail through an outbox: ``queue_mail`` writes the message in the caller's transaction, and only
after that transaction commits is the job ``core.mail.deliver`` queued, which sends it with smtplib to
``MAIL_SERVER``/``MAIL_PORT`` (``MAIL_USE_TLS`` = STARTTLS, ``MAIL_USE_SSL`` = SMTPS, login when
``MAIL_USERNAME`` is set).

A rolled-back transaction sends nothing. A message is sent at most once: the job first claims the row
(queued -> sending, one atomic UPDATE, committed), so a duplicate job or a second worker finds nothing to do.
A temporary failure puts the message back to "queued" (``core.mail.retry`` queues those again) until
``MAX_ATTEMPTS``; a refusal by the server, or the last attempt, leaves it "failed" with ``last_error``. A
worker that dies between the SMTP conversation and its commit leaves "sending": never resent automatically.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Iterable

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import audit, jobs
from core.db import utcnow
from core.i18n import _l
from core.models import MailAttachment, MailMessage
from core.scope import system_scope

log = logging.getLogger("guanxi.mail")

DELIVER_JOB = "core.mail.deliver"
RETRY_JOB = "core.mail.retry"
MAX_ATTEMPTS = 5
RETRY_AFTER = dt.timedelta(minutes=2)  # a queued message older than this is queued again by the retry job
SMTP_TIMEOUT = 30
SUBJECT_MAX = 500
_ADDRESS = re.compile(r"^[^@\s,;<>\"()\[\]\\]+@[^@\s,;<>\"()\[\]\\]+\.[^@\s,;<>\"()\[\]\\]+$")
_MIMETYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
_PENDING = "pending_mail"


def queue_mail(session, *, to: Iterable[str], subject: str, text: str, html: str | None = None,
               attachments: Iterable[tuple[str, bytes, str]] = (), related: tuple[str, int] | None = None,
               cc: Iterable[str] = (), reply_to: str | None = None,
               created_by_id: int | None = None) -> MailMessage:
    """Add a message to the outbox in ``session``'s transaction (flushed, not committed) and deliver it
    after the commit. ``attachments``: ``(filename, content bytes, mimetype)``; ``related``: the record the
    mail is about, ``(entity, record_id)`` (its audit trail gets an "e-mailed" entry).

    Bad input raises ``marshmallow.ValidationError`` keyed by the argument (``to``, ``cc``, ``reply_to``,
    ``subject``, ``attachments``) with translated messages, before anything is added.
    """
    errors: dict[str, list[str]] = {}
    recipients = _addresses(to, "to", errors, required=True)
    copies = _addresses(cc, "cc", errors)
    reply = (reply_to or "").strip() or None
    if reply is not None and not _ADDRESS.match(reply):
        errors["reply_to"] = [str(_l("Not a valid e-mail address: %(address)s", address=reply))]
    subject = " ".join((subject or "").split())  # no line breaks: they would end the header
    if not subject:
        errors["subject"] = [str(_l("Please enter a subject."))]
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = [str(_l("At most %(count)d characters.", count=SUBJECT_MAX))]
    files = _attachments(attachments, errors)
    if errors:
        raise ValidationError(errors)
    message = MailMessage(
        message_id=make_msgid(domain=_sender_domain()), status="queued",
        sender=current_app.config.get("MAIL_FROM") or "guanxi@localhost",
        recipients=recipients, cc=copies, reply_to=reply, subject=subject, text=text or "", html=html,
        related_entity=related[0] if related else None, related_id=related[1] if related else None,
        created_by_id=created_by_id, attempts=0,
        attachments=[MailAttachment(filename=name, mimetype=kind, content=content) for name, kind, content in files])
    session.add(message)
    session.flush()
    audit.record(session, "mail_message", message.id, "create", created_by_id,
                 {"recipients": [None, recipients], "subject": [None, subject],
                  "attachments": [None, [name for name, _kind, _content in files]]})
    if related:
        audit.record(session, related[0], related[1], "mail", created_by_id)
    session.info.setdefault(_PENDING, []).append((current_app._get_current_object(), message.id))
    return message


@jobs.task(DELIVER_JOB)
def deliver(session, message_id: int) -> str:
    """Send outbox message ``message_id`` if it is still queued; returns the resulting status
    ("sent", "queued" = will be retried, "failed") or "skipped" (sent, being sent or gone)."""
    with system_scope(session, "mail: deliver"):
        claimed = session.execute(
            update(MailMessage).where(MailMessage.id == message_id, MailMessage.status == "queued")
            .values(status="sending", attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()  # the claim is visible to every other worker before we talk to the server
        if claimed != 1:
            return "skipped"
        message = session.execute(select(MailMessage).where(MailMessage.id == message_id)
                                  .execution_options(populate_existing=True)).scalar_one()
        try:
            _send(build_email(message), message, current_app.config)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            final = _refused(exc) or message.attempts >= MAX_ATTEMPTS
            message.status = "failed" if final else "queued"
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("mail %s (%s) not sent, attempt %d: %s", message.id, message.message_id,
                        message.attempts, message.last_error)
        else:
            message.status, message.sent_at, message.last_error = "sent", utcnow(), None
            log.info("mail %s (%s) sent", message.id, message.message_id)
        audit.record(session, "mail_message", message.id, message.status if message.status != "queued"
                     else "retry", None, {"status": ["sending", message.status],
                                          "error": [None, message.last_error]})
        session.commit()
        return message.status


def retry_queued(session, older_than: dt.timedelta = RETRY_AFTER) -> int:
    """Queue delivery again for messages still "queued" after ``older_than`` (a failed attempt, or a queue
    that lost the job); returns how many. The periodic job ``core.mail.retry`` (``scheduled()``), every 5
    minutes; ``jobs.enqueue(app, "core.mail.retry")`` runs it at once."""
    with system_scope(session, "mail: retry"):
        cutoff = utcnow() - older_than
        ids = session.execute(select(MailMessage.id).where(MailMessage.status == "queued",
                                                           MailMessage.created_at <= cutoff)
                              .order_by(MailMessage.id).limit(500)).scalars().all()
    for message_id in ids:
        _enqueue(current_app._get_current_object(), message_id)
    return len(ids)


def scheduled() -> list:
    """The periodic retry job, for core's ``scheduled_jobs`` hook."""
    return [jobs.ScheduledJob(RETRY_JOB, retry_queued, crontab={"minute": "*/5"})]


def build_email(message: MailMessage) -> EmailMessage:
    """The MIME message of an outbox row (plain text, optional HTML alternative, attachments)."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = message.sender
    email["To"] = ", ".join(message.recipients)
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at or utcnow())
    email.set_content(message.text or "")
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, subtype = attachment.mimetype.split("/", 1)
        email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                             filename=attachment.filename)
    return email


def _send(email: EmailMessage, message: MailMessage, config) -> None:
    host, port = config.get("MAIL_SERVER") or "127.0.0.1", int(config.get("MAIL_PORT") or 25)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with client:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            client.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        client.send_message(email, from_addr=_bare(message.sender),
                            to_addrs=list(message.recipients) + list(message.cc or []))


def _refused(exc) -> bool:
    """A permanent refusal (5xx, bad address, bad login, a message we cannot build): retrying will not help."""
    if isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError,
                        smtplib.SMTPNotSupportedError, ValueError)):
        return True
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _bare(sender: str) -> str:
    from email.utils import parseaddr
    return parseaddr(sender)[1] or sender


def _sender_domain() -> str:
    address = _bare(current_app.config.get("MAIL_FROM") or "")
    return address.rpartition("@")[2] or "localhost"


def _addresses(values, name, errors, required=False) -> list[str]:
    if isinstance(values, str):
        values = re.split(r"[,;\s]+", values)
    addresses = [v.strip() for v in values or () if v and v.strip()]
    bad = [a for a in addresses if not _ADDRESS.match(a) or len(a) > 254]
    if bad:
        errors[name] = [str(_l("Not a valid e-mail address: %(address)s", address=", ".join(bad)))]
    elif required and not addresses:
        errors[name] = [str(_l("Please enter at least one e-mail address."))]
    return addresses


def _attachments(attachments, errors) -> list[tuple[str, str, bytes]]:
    from core.attachments import sanitize_filename
    files, total = [], 0
    limit = int(current_app.config.get("MAX_UPLOAD_MB") or 20) * 1024 * 1024
    for item in attachments or ():
        filename, content, mimetype = item
        if not isinstance(content, (bytes, bytearray)) or not _MIMETYPE.match(str(mimetype or "").lower()):
            raise TypeError("attachments are (filename, bytes, 'type/subtype') tuples")
        total += len(content)
        files.append((sanitize_filename(filename), str(mimetype).lower(), bytes(content)))
    if total > limit:
        errors["attachments"] = [str(_l("The attachments are too large (at most %(size)d MB).",
                                        size=limit // (1024 * 1024)))]
    return files


def _enqueue(app, message_id: int) -> None:
    try:
        jobs.enqueue(app, DELIVER_JOB, message_id=message_id)
    except Exception:  # the row stays "queued": the retry job picks it up
        log.exception("could not queue delivery of mail %s", message_id)


@event.listens_for(Session, "after_commit")
def _deliver_committed(session):
    for app, message_id in session.info.pop(_PENDING, None) or ():
        _enqueue(app, message_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


__all__ = ["DELIVER_JOB", "MAX_ATTEMPTS", "RETRY_JOB", "build_email", "deliver", "queue_mail", "retry_queued",
           "scheduled"]
