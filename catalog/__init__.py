"""The default service catalog shipped with Tongban: data, not code.

Definitions live in ``services/`` and the category list in ``categories.yaml``.
Code that needs the folder uses :data:`DEFAULT_CATALOG_DIR`.
"""

from pathlib import Path

DEFAULT_CATALOG_DIR: Path = Path(__file__).resolve().parent
