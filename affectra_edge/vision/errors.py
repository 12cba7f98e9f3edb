"""Errors raised by the vision package."""

from __future__ import annotations


class ModelError(Exception):
    """A model file (or an optional backend) is missing, unreadable or not what we expect.

    The message always names the file or the package involved, so that it can be shown to
    the person who installs the box as it is.
    """
