"""A real SMTP server for tests (aiosmtpd on a free local port), behind the ``smtp_server`` fixture."""
from __future__ import annotations

import random
import socket
import threading
import time
from email import message_from_bytes, policy


def free_port(host: str = "127.0.0.1", low: int = 20000, high: int = 60000, tries: int = 200) -> int:
    """A TCP port nobody listens on right now, found by binding to it (never port 0, whose pick the
    server could not be told in advance)."""
    for port in random.sample(range(low, high), tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port on {host} between {low} and {high}")


class _Recorder:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, _smtp, _session, envelope, address, _options):
        if address in self.server.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _smtp, _session, envelope):
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append(parsed)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    CONFIG_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD")

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = None
        self.messages: list = []
        self.envelopes: list = []
        self.lock = threading.Lock()
        self.refuse: set[str] = set()  # recipients answered with "550 mailbox unavailable"
        self._controller = None

    def start(self):
        from aiosmtpd.controller import Controller
        last_error = None
        for _attempt in range(5):  # another process may take the port between the probe and the start
            port = free_port(self.host)
            controller = Controller(_Recorder(self), hostname=self.host, port=port, enable_SMTPUTF8=True)
            try:
                controller.start()
            except Exception as exc:  # noqa: BLE001 - try the next port
                last_error = exc
                continue
            self._controller, self.port = controller, port
            return self
        raise RuntimeError(f"could not start the test SMTP server: {last_error!r}")

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def configure(self, app):
        app.config.update(MAIL_SERVER=self.host, MAIL_PORT=self.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False,
                          MAIL_USERNAME="", MAIL_PASSWORD="")
        return app

    def wait_for(self, count: int = 1, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return True
            time.sleep(0.05)
        with self.lock:
            return len(self.messages) >= count
