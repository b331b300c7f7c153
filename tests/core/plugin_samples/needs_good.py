"""Requires ``good``: must be registered after it."""
from hooks import hookimpl

REQUIRES = ("good",)


@hookimpl
def cli_commands():
    return []
