"""Which service catalog the terminal uses, and loading it once per process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from catalog import DEFAULT_CATALOG_DIR
from forms import Catalog, load_catalog

log = logging.getLogger(__name__)

SYNCED_CATALOG_FOLDER = "catalog/current"


def active_catalog_dir(data_dir: Path, config: Any) -> Path:
    """The catalog folder in force, most specific first.

    1. the signed catalog last pulled from the central platform (``<data>/catalog/current``),
    2. ``[catalog] path`` from the config,
    3. the catalog bundled with the software.
    """
    synced = data_dir / SYNCED_CATALOG_FOLDER
    if (synced / "categories.yaml").is_file():
        return synced
    configured = config.catalog.path
    if configured:
        return Path(configured)
    return DEFAULT_CATALOG_DIR


def open_catalog(data_dir: Path, config: Any) -> Catalog:
    """Load the active catalog (raises forms.DefinitionInvalid with every problem)."""
    folder = active_catalog_dir(data_dir, config)
    log.info("loading service catalog from %s", folder)
    return load_catalog(folder)
