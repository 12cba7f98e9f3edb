"""Affectra Edge: an audience-emotion sensor for small edge boxes."""

__version__ = "0.1.0"
