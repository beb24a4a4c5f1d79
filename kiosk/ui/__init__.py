"""The kiosk's touch UI (PySide6 Widgets): the shell, the citizen's screens and their widgets.

See ``docs/ui.md``. Entry point: :func:`kiosk.ui.app.run_kiosk` (``kiosk run``).
"""
