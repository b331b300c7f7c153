"""What the duplicates feature adds to other pages (core's ``list_actions`` hook calls this)."""
from __future__ import annotations

from flask import url_for

from core.dedupe import MERGEABLE
from core.i18n import _l
from core.ui import Action


def merge_action(entity: str) -> list[Action]:
    """"Merge selected" on the lists of mergeable entities: posts the ticked ids to the merge page."""
    if entity not in MERGEABLE:
        return []
    return [Action(key="core.merge", label=_l("Merge selected"), url=url_for("dedupe.merge_page", entity=entity),
                   method="POST", permission=f"core.{entity}.edit")]
