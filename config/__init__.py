"""Guanxi configuration: defaults live in ``config/default.py``; see ``config/production.example.py``."""
