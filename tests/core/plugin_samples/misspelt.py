"""Implements a hook that does not exist (a typo of ``menu_items``)."""
from hooks import hookimpl


@hookimpl
def menu_itemz(user):
    return []
