"""Chorus: an open system for responding to intimate image abuse."""

__version__ = "0.1.0"
