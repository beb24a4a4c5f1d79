"""The reference central platform: enrolment, signed catalog, submission ingest, case status.

A FastAPI application (:func:`central.app.create_app`) over a storage interface
(:class:`central.store.CentralStore`, SQLite by default) and the platform's keys
(:mod:`central.keys`). The ``kiosk-central`` command (:mod:`central.cli`) serves it and
administers it. The wire format is :mod:`sync.protocol`, shared with the terminal.
"""
