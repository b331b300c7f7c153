"""Guanxi module: pool."""
