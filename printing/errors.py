"""Errors of the printing part. Their messages are meant for hall staff and technicians."""

from __future__ import annotations


class PrintError(Exception):
    """A document could not be printed; the message names the printer and what to check."""


class PrinterConfigError(PrintError):
    """A printer is described wrongly (bad connection string, unknown backend or paper)."""
