"""The module's domain event. Core documents ``payment_received`` in DESIGN.md; until ``core.signals`` declares
it, the module declares it here (the same object is used once core has it)."""
from blinker import Namespace

from core import signals as core_signals

payment_received = getattr(core_signals, "payment_received", None) or Namespace().signal("payment-received")
"""sender: "payment"; kwargs ``payment_id``, ``plan_id``, ``customer_id``, ``amount`` (Decimal), ``currency``,
``user_id``. Sent after the commit that recorded the payment (a 回款 or an applied pre-receipt)."""
