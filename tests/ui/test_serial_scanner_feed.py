"""A barcode scanner in serial mode ([devices] scanner_port) drives the kiosk like a wedge scan.

The scanner is a real pseudo-terminal; the port the kiosk is configured with is a symlink
to it, so the test can "plug it in" after start and "unplug" it (closing the pty's master
hangs the line up, as pulling a USB CDC scanner does) and plug another one in.
"""

from __future__ import annotations

import random
from pathlib import Path

from catalog import DEFAULT_CATALOG_DIR
from forms import load_catalog
from kiosk.i18n import tr
from kiosk.ui.scanner import SerialScannerFeed
from sync.store import database_path, open_store
from tests.support.answers import valid_answers
from tests.support.serial_pty import Pty

SERVICE = "residence-permit"


def _receipt(data_dir: Path) -> str:
    catalog = load_catalog(DEFAULT_CATALOG_DIR)
    answers, files = valid_answers(catalog, SERVICE, random.Random(3))
    with open_store(database_path(data_dir)) as store:
        return store.enqueue(SERVICE, catalog.get(SERVICE).version, answers, attachments=files,
                             service_name={"zh_CN": "居住证申领", "en": "Residence permit"}).receipt_no


def test_scans_arrive_after_the_scanner_is_plugged_in_and_again_after_a_replug(
    make_kiosk, data_dir: Path, tmp_path: Path
) -> None:
    kiosk = make_kiosk()
    receipt = _receipt(data_dir)
    port = tmp_path / "ttyScanner"  # not there yet: the kiosk starts without its scanner
    feed = SerialScannerFeed(str(port), 9600, retry_ms=50, parent=kiosk.window)
    feed.scanned.connect(kiosk.window.handle_scan)
    feed.start()
    assert not feed.running()

    first = Pty()
    port.symlink_to(first.port)
    kiosk.qtbot.waitUntil(feed.running, timeout=5000)
    first.send(receipt.encode() + b"\r\n")
    kiosk.wait_screen("status")
    kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
    assert kiosk.text("receipt_no") == receipt
    assert kiosk.text("state") == tr("zh_CN", "status.state.waiting")

    kiosk.tap("home")
    kiosk.wait_screen("home")
    first.close()
    kiosk.qtbot.waitUntil(lambda: not feed.running(), timeout=5000)
    second = Pty()
    port.unlink()
    port.symlink_to(second.port)
    try:
        kiosk.qtbot.waitUntil(feed.running, timeout=5000)
        second.send(receipt.encode() + b"\r\n")
        kiosk.wait_screen("status")
        kiosk.qtbot.waitUntil(lambda: kiosk.has("state"), timeout=20_000)
        assert kiosk.text("receipt_no") == receipt
    finally:
        feed.stop()
        second.close()
