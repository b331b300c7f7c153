"""Domain events (blinker). Each is sent *after* the transaction commits, by the service that did the work.

Receivers subscribe in ``app_configured``; they must not assume a request context.
"""
from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

record_created = _signals.signal("record-created")
"""sender: entity name (str); kwargs: ``record_id``, ``user_id``."""

record_updated = _signals.signal("record-updated")
"""sender: entity name; kwargs: ``record_id``, ``user_id``, ``changes`` ({field: [old, new]})."""

record_deleted = _signals.signal("record-deleted")
"""sender: entity name; kwargs: ``record_id``, ``user_id`` (soft delete: the row is in the recycle bin)."""

record_restored = _signals.signal("record-restored")
"""sender: entity name; kwargs: ``record_id``, ``user_id``."""

owner_transferred = _signals.signal("owner-transferred")
"""sender: entity name; kwargs: ``record_ids`` (list), ``user_id``, ``new_owner_id``."""

user_logged_in = _signals.signal("user-logged-in")
"""sender: the app; kwargs: ``user_id``, ``ip``."""

records_imported = _signals.signal("records-imported")
"""Once per import batch, after its commit. sender: entity name; kwargs: ``import_id``, ``user_id``,
``created_ids`` (list of new record ids), ``updated_ids`` (list of ids changed by the batch)."""

import_undone = _signals.signal("import-undone")
"""After "undo this import" committed. sender: entity name; kwargs: ``import_id``, ``user_id``,
``deleted_ids`` (records the import had created, now in the recycle bin), ``reverted_ids``."""

quote_accepted = _signals.signal("quote-accepted")
"""After the commit that marked a quote accepted. sender: ``"quote"``; kwargs: ``quote_id``, ``customer_id``,
``user_id``."""

payment_received = _signals.signal("payment-received")
"""After the commit that recorded a payment (a 回款 on a plan or an applied pre-receipt). sender: ``"payment"``;
kwargs: ``payment_id``, ``plan_id``, ``customer_id``, ``amount`` (Decimal), ``currency``, ``user_id``."""



def send_after_commit(session, signal, sender, **kwargs):
    """Send ``signal`` once ``session``'s transaction commits; forget it if the transaction rolls back.

    For services called with ``commit=False`` so that a caller can make several of them one transaction:
    receivers never hear of records that a later rollback removed.
    """
    session.info.setdefault("pending_signals", []).append((signal, sender, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session):
    pending = session.info.pop("pending_signals", None)
    for signal, sender, kwargs in pending or ():
        signal.send(sender, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction):
    if previous_transaction.parent is None:  # the outermost transaction ended: nothing will be committed
        session.info.pop("pending_signals", None)
