"""Errors a technician can hit while setting up a terminal.

They carry a message that names the path, file or key at fault and the fix; the CLI
prints the message (no traceback) and exits with status 2.
"""


class SetupError(Exception):
    """The terminal cannot start as set up: a folder, file or setting is unusable.

    The message names the path and says how to fix it.
    """


class CommandError(Exception):
    """An expected failure of a CLI command: printed as one clear line, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
