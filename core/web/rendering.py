"""Rendering of the pieces modules contribute to pages: detail-page panels and dashboard widgets.

A panel's (or widget's) template is a fragment: the shell draws the card and its title (``card-header``),
the fragment draws the body (usually ``<div class="card-body">``, or a flush table/list). It is rendered
with the keys of ``panel.context`` (or of what ``widget.load()`` returned) as template variables, plus
``panel``/``record``/``record_spec`` (``widget``/``data``) and the ``cell`` display helper; so both
``{{ visits }}`` and ``{{ panel.context.visits }}`` work.
"""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from core.web import display


def _fragment(template, variables) -> Markup:
    # Markup() only wraps the output of our own autoescaping template engine (a file template, never a
    # string from users): every value inside it has already been escaped.
    return Markup(render_template(template, **variables))  # nosec B704 - autoescaped template output


def render_panel(panel, record, spec) -> Markup:
    variables = {"panel": panel, "record": record, "record_spec": spec, "cell": display.record_cell}
    variables.update(panel.context or {})
    return _fragment(panel.template, variables)


def render_widget(widget, data) -> Markup:
    variables = {"widget": widget, "data": data, "cell": display.record_cell}
    variables.update(data if isinstance(data, dict) else {})
    return _fragment(widget.template, variables)
