"""Trickle's Qt layer: windows, tabs, dialogs, view models and the page bridge.

Thin by design: it talks to ``wallet`` only through the service façade and its events.
"""
