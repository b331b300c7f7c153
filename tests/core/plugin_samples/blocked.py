"""Importing this module is what the tests must never see when it is not allowed to load."""
from hooks import hookimpl


@hookimpl
def menu_items(user):
    return []
