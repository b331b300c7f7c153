"""A well-behaved module: one CLI command."""
import click

from hooks import hookimpl


@click.command("sample-hello")
def hello():
    """Say hello from a module."""
    click.echo("hello from the sample module")


@hookimpl
def cli_commands():
    return [hello]
