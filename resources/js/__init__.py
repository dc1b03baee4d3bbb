"""Injected JavaScript (read with importlib.resources; not Python)."""
