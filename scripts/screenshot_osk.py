"""Screenshot of the form screen with the on-screen keyboard open in pinyin mode.

    .venv/bin/python scripts/screenshot_osk.py [--out docs/screenshots/osk-zh.png]
        [--size 1920x1080|1080x1920] [--large] [--english]

Reaches the address step of the residence permit form with a demo identity, taps the
address box and types "keji" on the keyboard (offscreen, ``QWidget.grab()``), so the
candidate bar shows 科技 and friends.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton  # noqa: E402

from kiosk.catalog_source import open_catalog  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.ime import shared_engine  # noqa: E402
from kiosk.ui.app import KioskWindow  # noqa: E402
from kiosk.ui.backend import KioskBackend  # noqa: E402
from kiosk.ui.devices import DemoIdCardReader, demo_identities  # noqa: E402
from kiosk.ui.screens.form import FormScreen  # noqa: E402
from kiosk.ui.session import Hall, KioskState  # noqa: E402
from scripts.screenshots import enrol, settle  # noqa: E402

log = logging.getLogger("screenshot_osk")


def main(argv: list[str] | None = None) -> int:
    """Render the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots" / "osk-zh.png")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--large", action="store_true", help="large type")
    parser.add_argument("--english", action="store_true", help="English screen (the keyboard in pinyin mode)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    width, height = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="tongban-osk-") as tmp:
        data_dir = Path(tmp)
        enrol(data_dir)
        shared_engine(data_dir / "cache")  # the index, before the window (no "getting ready" in the picture)
        config = load_config(data_dir / "kiosk.toml")
        backend = KioskBackend(data_dir, config)
        state = KioskState(catalog=open_catalog(data_dir, config), backend=backend,
                           hall=Hall(config.hall.name_zh, config.hall.name_en),
                           language="en" if args.english else "zh_CN", large_type=args.large, demo=True)
        reader = DemoIdCardReader()
        window = KioskWindow(state, kiosk_mode=False, idle_timeout_ms=3_600_000, id_reader=reader)
        window.resize(width, height)
        window.show()
        window.strip.set_central_state("online")
        try:
            window.open_guide(state.catalog.get("residence-permit"))
            window.identified(demo_identities()["zhang_san"].as_prefill(), "card")
            form = window.screen("form")
            assert isinstance(form, FormScreen)
            wizard = state.session.wizard
            assert wizard is not None
            wizard.set_answer("mobile", "13800138000")
            form.next()
            settle(app)
            for part, text in (("province", "广东省"), ("city", "深圳市"), ("district", "南山区")):
                box = window.findChild(QLineEdit, f"address_{part}")
                box.setText(text)
            detail = window.findChild(QLineEdit, "address_detail")
            QTest.mouseClick(detail, Qt.MouseButton.LeftButton)
            settle(app)
            keys = [k for k in window.findChildren(QPushButton) if k.isVisible()]
            if args.english:
                next(k for k in keys if k.objectName() == "osk_mode").click()
                settle(app)
            for char in "keji":
                next(k for k in keys if k.objectName() == f"osk_{char}").click()
            settle(app)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(args.out))
            log.warning("screenshot in %s", args.out)
        finally:
            window.allow_close()
            window.close()
            settle(app)
            reader.stop()
            backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
