"""Tongban test suite."""
