"""Write ``docs/config.md`` from the declared configuration keys: ``python -m kiosk.config_docs``."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.config import render_config_docs

HEADER = """# Configuration (`kiosk.toml`)

Generated from the declared keys in `kiosk/config.py`: `python -m kiosk.config_docs` rewrites
it, and a test checks it is current. The file lives in the data folder, or where `KIOSK_CONFIG`
points. Unknown keys and wrong types are errors naming the file and the key.

"""


def config_markdown() -> str:
    """The whole of docs/config.md."""
    return HEADER + render_config_docs() + "\n"


def main() -> int:
    """Rewrite docs/config.md next to the source tree."""
    target = Path(__file__).resolve().parent.parent / "docs" / "config.md"
    target.write_text(config_markdown(), "utf-8")
    sys.stderr.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
