"""core.mail: the outbox row is written in the caller's transaction, delivered after commit through the job
queue to a real SMTP server, at most once, with its status, attempts and error kept."""
from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from core import jobs, mail
from core.models import AuditEntry, Customer, MailMessage
from core.testing.smtp import free_port

# A tiny but well-formed PDF (one empty page), enough to travel as an attachment.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
SUBJECT = "报价单 QT-2026-0001：上海关系贸易有限公司"


def outbox(gx):
    with gx.system_session("test: read outbox") as session:
        return session.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()


def test_delivered_through_the_real_queue(app_with, smtp_server, consumer_for, tmp_path, org):
    queued_app = smtp_server.configure(app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path)))
    gx = queued_app.extensions["guanxi"]
    consumer_for(queued_app)
    with queued_app.app_context(), gx.system_session("test: quote mail") as session:
        customer = Customer(name="上海关系贸易有限公司", owner_id=org.rep_east.id)
        session.add(customer)
        session.flush()
        message = mail.queue_mail(session, to=["buyer@example.com"], cc=["boss@example.com"], subject=SUBJECT,
                                  text="您好，附件是报价单。", html="<p>您好，附件是<b>报价单</b>。</p>",
                                  attachments=[("报价单 QT-2026-0001.pdf", PDF, "application/pdf")],
                                  related=("customer", customer.id), reply_to="rep_east@example.com",
                                  created_by_id=org.rep_east.id)
        assert message.status == "queued" and message.id
        assert smtp_server.messages == []  # nothing leaves before the commit
        session.commit()
        message_id, customer_id = message.id, customer.id
    assert smtp_server.wait_for(1)
    assert jobs.wait_until(lambda: outbox(gx)[0].status == "sent")
    received = smtp_server.messages[0]
    assert received["Subject"] == SUBJECT
    assert received["To"] == "buyer@example.com" and received["Cc"] == "boss@example.com"
    assert received["Reply-To"] == "rep_east@example.com"
    assert sorted(smtp_server.envelopes[0][1]) == ["boss@example.com", "buyer@example.com"]
    assert received.get_body(("plain",)).get_content().strip() == "您好，附件是报价单。"
    assert "<b>报价单</b>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "报价单 QT-2026-0001.pdf"
    assert attachment.get_content() == PDF
    [row] = outbox(gx)
    assert (row.id, row.attempts, row.last_error) == (message_id, 1, None)
    assert row.sent_at is not None and received["Message-ID"] == row.message_id
    with gx.system_session("test: audit") as session:
        actions = session.execute(select(AuditEntry.entity, AuditEntry.record_id, AuditEntry.action)
                                  .order_by(AuditEntry.id)).all()
    assert ("customer", customer_id, "mail") in actions  # "sent an e-mail" in the customer's history
    assert ("mail_message", message_id, "create") in actions and ("mail_message", message_id, "sent") in actions


def test_rolled_back_mail_is_never_sent(app, gx, smtp_server):
    with app.app_context(), gx.system_session("test: rollback") as session:
        mail.queue_mail(session, to=["a@example.com"], subject="不会发送", text="x")
        session.rollback()
        session.commit()  # a later commit of the same session must not send the forgotten message
    assert outbox(gx) == [] and smtp_server.messages == []


def test_a_message_is_sent_at_most_once(app, gx, smtp_server):
    with app.app_context(), gx.system_session("test: once") as session:
        message = mail.queue_mail(session, to=["a@example.com"], subject="一次 once", text="x")
        session.commit()  # QUEUE=memory: delivered right here
        assert mail.deliver(session, message.id) == "skipped"  # a duplicate job finds nothing to do
        assert mail.deliver(session, 999999) == "skipped"
    assert len(smtp_server.messages) == 1
    [row] = outbox(gx)
    assert (row.status, row.attempts) == ("sent", 1)


def test_temporary_failures_are_retried_then_given_up(app, gx, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    with app.app_context(), gx.system_session("test: no server") as session:
        message = mail.queue_mail(session, to=["a@example.com"], subject="没有服务器", text="x")
        session.commit()  # the first attempt meets a closed port
        [row] = outbox(gx)
        assert (row.status, row.attempts) == ("queued", 1)
        assert "ConnectionRefusedError" in row.last_error
        for _attempt in range(mail.MAX_ATTEMPTS - 1):
            mail.deliver(session, message.id)
        assert mail.deliver(session, message.id) == "skipped"  # given up: not tried again
    [row] = outbox(gx)
    assert (row.status, row.attempts) == ("failed", mail.MAX_ATTEMPTS)


def test_a_refused_recipient_fails_at_once(app, gx, smtp_server):
    smtp_server.refuse.add("nobody@example.com")
    with app.app_context(), gx.system_session("test: refused") as session:
        mail.queue_mail(session, to=["nobody@example.com"], subject="退信", text="x")
        session.commit()
    [row] = outbox(gx)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error
    assert smtp_server.messages == []


def test_retry_job_queues_old_messages_again(app, gx, smtp_server):
    port = smtp_server.port
    app.config["MAIL_PORT"] = free_port()  # the first attempt fails (the fixture restores the settings)
    with app.app_context(), gx.system_session("test: retry") as session:
        mail.queue_mail(session, to=["a@example.com"], subject="重试 retry", text="x")
        session.commit()
        assert outbox(gx)[0].status == "queued"
        app.config["MAIL_PORT"] = port  # the server is back
        assert mail.retry_queued(session) == 0  # too recent
        assert mail.retry_queued(session, older_than=dt.timedelta(0)) == 1
    assert [m["Subject"] for m in smtp_server.messages] == ["重试 retry"]
    assert outbox(gx)[0].status == "sent"
    assert [job.name for job in mail.scheduled()] == [mail.RETRY_JOB]
    assert mail.RETRY_JOB in jobs.jobs_for(app).periodic_names()


@pytest.mark.parametrize("kwargs, field", [
    ({"to": []}, "to"), ({"to": ["not-an-address"]}, "to"), ({"to": ["a@example.com\nBcc: x@evil.com"]}, "to"),
    ({"cc": ["b@"]}, "cc"), ({"subject": "  "}, "subject"), ({"subject": "长" * 501}, "subject"),
    ({"reply_to": "nobody"}, "reply_to"),
])
def test_bad_input_is_refused_at_the_field(app, gx, kwargs, field):
    arguments = {"to": ["a@example.com"], "subject": "主题", "text": "x", **kwargs}
    with app.test_request_context(), gx.system_session("test: bad") as session:
        with pytest.raises(ValidationError) as error:
            mail.queue_mail(session, **arguments)
        assert list(error.value.messages) == [field]
        session.commit()
        assert session.execute(select(func.count()).select_from(MailMessage)).scalar() == 0


def test_subject_line_breaks_cannot_inject_headers(app, gx, smtp_server):
    with app.app_context(), gx.system_session("test: header") as session:
        mail.queue_mail(session, to="a@example.com; b@example.com", subject="Hi\r\nBcc: x@evil.com", text="x")
        session.commit()
    [received] = smtp_server.messages
    assert received["Bcc"] is None and received["Subject"] == "Hi Bcc: x@evil.com"
    assert sorted(smtp_server.envelopes[0][1]) == ["a@example.com", "b@example.com"]


def test_attachments_are_size_capped(app, gx, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    with app.app_context(), gx.system_session("test: big") as session:
        with pytest.raises(ValidationError) as error:
            mail.queue_mail(session, to=["a@example.com"], subject="大", text="x",
                            attachments=[("big.pdf", b"0" * (1024 * 1024 + 1), "application/pdf")])
    assert list(error.value.messages) == ["attachments"]
