"""Guanxi's own suite uses the published fixtures of ``core.testing`` (the ``pytest11`` entry point)."""
