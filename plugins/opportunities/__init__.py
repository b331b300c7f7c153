"""Guanxi module: opportunities."""
