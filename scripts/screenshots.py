"""Screenshots of every kiosk screen, in Chinese, English and large type, landscape and portrait.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only zh-1920x1080]

Renders offscreen (``QT_QPA_PLATFORM=offscreen``, the default here) or on a display (run it
under ``xvfb-run`` with ``QT_QPA_PLATFORM=xcb``): each screen is reached the way the
journey reaches it, with a demo identity, and grabbed with ``QWidget.grab()``. A throw-away
data folder with an enrolled store is used, so the submission screens are real.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from kiosk.background import pending_tasks  # noqa: E402
from kiosk.catalog_source import open_catalog  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.ui.app import KioskWindow  # noqa: E402
from kiosk.ui.backend import KioskBackend, LookUpsLimited  # noqa: E402
from kiosk.ui.devices import DemoIdCardReader, demo_identities, scan_sample_page  # noqa: E402
from kiosk.ui.screens.form import FormScreen  # noqa: E402
from kiosk.ui.session import Hall, KioskState  # noqa: E402
from sync.enrolment import Enrolment  # noqa: E402
from sync.sealing import generate_keypair  # noqa: E402
from sync.store import database_path, open_store  # noqa: E402

log = logging.getLogger("screenshots")

SIZES = {"1920x1080": (1920, 1080), "1080x1920": (1080, 1920)}
MODES = {"zh": ("zh_CN", False), "en": ("en", False), "large": ("zh_CN", True)}


def settle(app: QApplication) -> None:
    """Let queued layout work and background tasks finish."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        app.processEvents()
        if pending_tasks() == 0:
            break
        time.sleep(0.01)
    for _ in range(3):
        app.processEvents()


def enrol(data_dir: Path) -> None:
    """An enrolled store, as ``kiosk enroll`` leaves it (the key pair is thrown away)."""
    _, public = generate_keypair()
    with open_store(database_path(data_dir)) as store:
        store.save_enrolment(Enrolment(
            device_id="00000000-0000-4000-8000-000000000000", device_code="K01", site_code="DEMO",
            token="screenshots", sealing_public_key=public, catalog_signing_key=bytes(32),
            central_url="http://127.0.0.1:8700", enrolled_at=datetime.now(UTC)))


def sign(window: QWidget) -> None:
    """Draw a signature across the visible signature pad, as a finger would."""
    pad = next(w for w in window.findChildren(QWidget, "SignaturePad") if w.isVisible())
    width, height = pad.width(), pad.height()
    points = [QPoint(int(width * (0.1 + 0.8 * x / 39)), int(height * (0.5 + 0.25 * ((x % 7) - 3) / 3)))
              for x in range(40)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        QTest.mouseMove(pad, point)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=points[-1])


def _shrink(path: Path) -> None:
    """Palette PNG (256 colours): a third of the size, no visible difference for flat UI colours."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def shoot(app: QApplication, out: Path, size_name: str, mode: str) -> list[Path]:
    """Every screen for one size and mode; returns the files written."""
    lang, large = MODES[mode]
    width, height = SIZES[size_name]
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tongban-shots-") as tmp:
        data_dir = Path(tmp)
        enrol(data_dir)
        config = load_config(data_dir / "kiosk.toml")
        backend = KioskBackend(data_dir, config)
        state = KioskState(catalog=open_catalog(data_dir, config), backend=backend,
                           hall=Hall(config.hall.name_zh, config.hall.name_en), language=lang,
                           large_type=large, demo=True)
        reader = DemoIdCardReader()
        window = KioskWindow(state, kiosk_mode=False, idle_timeout_ms=3_600_000, id_reader=reader)
        window.resize(width, height)
        window.show()
        window.strip.set_central_state("online")

        def grab(name: str) -> None:
            settle(app)
            path = out / f"{size_name}-{mode}-{name}.png"
            window.grab().save(str(path))
            _shrink(path)
            written.append(path)

        def step(action: Callable[[], object], name: str) -> None:
            action()
            grab(name)

        try:
            session = state.session
            service = state.catalog.get("residence-permit")
            step(lambda: window.go("home"), "01-home")
            step(lambda: window.go("status"), "02-status")
            step(lambda: window.go("catalog"), "03-catalog")
            catalog = window.screen("catalog")
            catalog.query = "jzz"  # type: ignore[attr-defined]
            step(lambda: window.go("catalog"), "04-catalog-search")
            catalog.clear_session()  # type: ignore[attr-defined]
            step(lambda: window.open_guide(service), "05-guide")
            identify = window.screen("identify")
            identify.typed = "31011519900307451"  # type: ignore[attr-defined]
            window.go("identify")
            step(identify.confirm_typed, "06-identify-error")  # type: ignore[attr-defined]
            identify.clear_session()  # type: ignore[attr-defined]
            step(lambda: window.identified(demo_identities()["zhang_san"].as_prefill(), "card"), "07-form-prefilled")
            form = window.screen("form")
            assert isinstance(form, FormScreen)
            step(form.next, "08-form-errors")
            wizard = session.wizard
            assert wizard is not None
            wizard.set_answer("mobile", "13800138000")
            form.next()
            wizard.set_answer("current_address", {"province": "广东省", "city": "深圳市", "district": "南山区",
                                                  "detail": "科技园路1号3栋502室"})
            wizard.set_answer("resident_since", "2024-03-01")
            wizard.set_answer("housing", "rented")
            wizard.set_answer("basis", "employment")
            step(form.render, "09-form-choices-date-address")
            wizard.set_answer("employer", "深圳市某某科技有限公司")
            form.next()
            for field_id in ("residence_proof", "employment_proof"):
                page = scan_sample_page(1)
                session.files[page.sha256] = page
                wizard.set_answer(field_id, [page.ref()])
            step(form.render, "10-form-documents")
            form.next()
            form.render()
            wizard.set_answer("consent", True)
            form.render()
            settle(app)
            sign(window)
            grab("11-form-consent-signature")
            step(form.next, "12-review")
            review = window.screen("review")
            review.submit()  # type: ignore[attr-defined]
            settle(app)
            grab("13-submitted")
            receipt_no = session.submission.receipt_no if session.submission else ""
            step(lambda: window.go("rating"), "14-rating")
            rating = window.screen("rating")
            step(lambda: rating.choose(2), "15-rating-low")  # type: ignore[attr-defined]
            step(window.call_staff, "16-call-staff")
            window.overlay.close_overlay()
            window.go("catalog")
            step(window._idle_warning, "17-idle-warning")
            window.countdown_timer.stop()
            window.end_session("screenshots")
            status = window.screen("status")
            window.go("status")
            status.look_up(receipt_no)  # type: ignore[attr-defined]
            grab("18-status-result")
            window.end_session("screenshots")
            window.go("status")
            # what a citizen sees past the kiosk's look-up limit (the screen's own failure path)
            step(lambda: status._failed(LookUpsLimited("screenshot")), "18b-status-limited")  # type: ignore[attr-defined]
            window.end_session("screenshots")
            step(lambda: window.go("appointment"), "19-appointment")
            appointment = window.screen("appointment")
            step(appointment.choose_walk_in, "20-walk-in-categories")  # type: ignore[attr-defined]
            appointment.take_ticket(state.catalog.categories[0].id)  # type: ignore[attr-defined]
            grab("21-ticket")
        finally:
            window.allow_close()
            window.close()
            settle(app)
            reader.stop()
            backend.close()
            window.deleteLater()
            settle(app)
    return written


def main(argv: list[str] | None = None) -> int:
    """Render the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", help="one set, e.g. zh-1920x1080")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    args.out.mkdir(parents=True, exist_ok=True)
    count = 0
    for size_name in SIZES:
        for mode in MODES:
            if args.only and args.only != f"{mode}-{size_name}":
                continue
            count += len(shoot(app, args.out, size_name, mode))
    log.warning("%d screenshots in %s", count, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
