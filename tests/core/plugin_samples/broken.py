"""Fails on import, as a plugin with a missing dependency would."""
raise ImportError("sample dependency 'nonexistent_lib' is not installed")
