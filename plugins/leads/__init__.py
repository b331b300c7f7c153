"""Guanxi module: leads."""
