"""Guanxi core: app factory, plugin host, data layer and scope, auth, core entities, web shell, API."""
__version__ = "0.1.0"
