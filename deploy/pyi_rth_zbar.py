"""PyInstaller runtime hook: make pyzbar load the libzbar shipped inside the bundle.

pyzbar looks for libzbar with ``ctypes.util.find_library("zbar")``, which searches the
system's library folders only, never the bundle; on a target without Debian's libzbar0 the
zbar decoder would be missing. This hook runs before any of our code and answers "zbar"
with the bundled copy (build.spec puts it at the top of the bundle). pyzbar binds
``find_library`` when it is imported, which is after this hook, so it sees the patched one.
"""

import ctypes.util
import os
import sys


def _install() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:  # not frozen: nothing to do
        return
    candidates = [name for name in os.listdir(bundle) if name.startswith("libzbar.so")]
    if not candidates:
        return
    bundled = os.path.join(bundle, sorted(candidates)[0])
    system_find_library = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        """The bundled libzbar for "zbar"; the system's answer for anything else."""
        return bundled if name == "zbar" else system_find_library(name)

    ctypes.util.find_library = find_library


_install()
