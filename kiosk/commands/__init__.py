"""Sub-commands of the ``kiosk`` CLI, one module per area.

Each module exposes ``register(subparsers)``, adding its commands to the parser;
every command's handler has the signature ``handler(args: Namespace, ctx: CliContext) -> int``.
"""
