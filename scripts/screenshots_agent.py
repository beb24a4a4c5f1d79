"""Screenshots of every agent station page, in Chinese and English.

    .venv/bin/python scripts/screenshots_agent.py [--out docs/screenshots] [--size 1920x1080] [--lang zh en]

Renders offscreen (``QT_QPA_PLATFORM=offscreen``, the default here). A throw-away data
folder is enrolled at the reference central platform started on localhost (as ``kiosk run
--demo`` does), with an agent and a supervisor account, so sign-in, submissions, the queue,
the daily summary and the hall's help requests are all real. Files are called
``agent-<lang>-<size>-NN-<page>.png``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtWidgets import QApplication  # noqa: E402

from kiosk.catalog_source import open_catalog  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.ui.agent.backend import AgentBackend  # noqa: E402
from kiosk.ui.agent.window import AgentWindow  # noqa: E402
from kiosk.ui.demo_central import DemoCentral  # noqa: E402
from kiosk.ui.devices import DemoIdCardReader, demo_identities, scan_sample_page  # noqa: E402
from kiosk.ui.session import Hall, KioskState  # noqa: E402
from scripts.screenshots import _shrink, settle, sign  # noqa: E402
from sync.staff import add_staff  # noqa: E402

log = logging.getLogger("screenshots_agent")

SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768)}
LANGS = {"zh": "zh_CN", "en": "en"}
AGENT_PIN = "482913"
SUPERVISOR_PIN = "730561"


def _earlier_work(backend: AgentBackend, state: KioskState) -> None:
    """Submissions made earlier today (one at this desk, one refused by the platform); two help requests."""
    from kiosk.commands.enroll import client_settings_from
    from sync.engine import client_for
    from sync.hall_sync import raise_help_request

    store = backend.store()
    service = state.catalog.get("residence-permit")
    names = {"name": "李秀英", "id_number": "440305194103150027", "mobile": "13900139000"}
    for _ in range(3):
        store.enqueue(service.id, service.version, names, service_name={"zh_CN": service.name.zh_CN,
                                                                        "en": service.name.en},
                      session_seconds=412.0)
    store.enqueue(service.id, service.version, {"name": "赵六", "id_number": "110105194912310021"},
                  service_name={"zh_CN": service.name.zh_CN, "en": service.name.en}, agent_id="wang.li",
                  session_seconds=655.0)
    refused = store.enqueue("social-security-card-replacement", "1",
                            {"name": "王五", "id_number": "110105194912310021"},
                            service_name={"zh_CN": "社会保障卡补换", "en": "Social security card replacement"})
    store.mark_dead(refused.submission_id, "form version 1 of social-security-card-replacement is retired "
                                           "(current: 2); the citizen must apply again")
    with client_for(store.require_enrolment(), **client_settings_from(backend.config)) as client:
        raise_help_request(store, client)
        raise_help_request(store, client)


def shoot(app: QApplication, out: Path, size_name: str, lang_name: str) -> list[Path]:
    """Every page for one size and language; returns the files written."""
    width, height = SIZES[size_name]
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tongban-agent-shots-") as tmp:
        data_dir = Path(tmp)
        config = load_config(data_dir / "kiosk.toml")
        with DemoCentral(data_dir, config) as central:
            central.enrol_terminal()
            backend = AgentBackend(data_dir, config)
            store = backend.store()
            add_staff(store, "wang.li", AGENT_PIN, "agent", display_name="王丽")
            add_staff(store, "zhao.min", SUPERVISOR_PIN, "supervisor", display_name="赵敏")
            state = KioskState(catalog=open_catalog(data_dir, config), backend=backend,
                               hall=Hall(config.hall.name_zh, config.hall.name_en), language=LANGS[lang_name],
                               demo=True)
            _earlier_work(backend, state)
            reader = DemoIdCardReader()
            window = AgentWindow(state, backend, idle_signout_ms=3_600_000, id_reader=reader)
            window.resize(width, height)
            window.show()

            def grab(name: str) -> None:
                settle(app)
                path = out / f"agent-{lang_name}-{size_name}-{name}.png"
                window.grab().save(str(path))
                _shrink(path)
                written.append(path)

            def step(action: Callable[[], object], name: str) -> None:
                action()
                grab(name)

            try:
                signin = window.signin_page
                signin.user_edit.setText("wang.li")
                signin.pin_edit.setText("000000")
                step(signin.submit, "01-signin-wrong-pin")
                signin.pin_edit.setText(AGENT_PIN)
                signin.submit()
                settle(app)
                submit = window.page("submit")
                step(submit.render, "02-submit-service")
                submit.choose("residence-permit")  # type: ignore[attr-defined]
                submit.id_edit.setText("110105194912310021")  # type: ignore[attr-defined]
                step(submit.confirm_typed, "03-submit-identify")  # type: ignore[attr-defined]
                step(lambda: submit.identified(demo_identities()["zhang_san"].as_prefill(), "card"),  # type: ignore[attr-defined]
                     "04-submit-form")
                wizard = state.session.wizard
                wizard.set_answer("mobile", "13800138000")
                submit.form_next()  # type: ignore[attr-defined]
                wizard.set_answer("current_address", {"province": "广东省", "city": "深圳市", "district": "南山区",
                                                      "detail": "科技园路1号3栋502室"})
                wizard.set_answer("resident_since", "2024-03-01")
                wizard.set_answer("housing", "rented")
                wizard.set_answer("basis", "employment")
                submit.form_next()  # type: ignore[attr-defined]
                wizard.set_answer("employer", "深圳市某某科技有限公司")
                submit.form_next()  # type: ignore[attr-defined]
                for field_id in ("residence_proof", "employment_proof"):
                    page = scan_sample_page(1)
                    state.session.files[page.sha256] = page
                    wizard.set_answer(field_id, [page.ref()])
                submit.form_next()  # type: ignore[attr-defined]
                wizard.set_answer("consent", True)
                submit.render()
                settle(app)
                sign(window)
                grab("05-submit-consent-signature")
                step(submit.form_next, "06-submit-review")  # type: ignore[attr-defined]
                submit.submit()  # type: ignore[attr-defined]
                settle(app)
                settle(app)
                grab("07-submit-done")
                receipt_no = submit.submission.receipt_no  # type: ignore[attr-defined]

                window.show_page("search")
                search = window.page("search")
                search.id_edit.setText("440305194103150027")  # type: ignore[attr-defined]
                search.search()  # type: ignore[attr-defined]
                settle(app)
                search.receipt_edit.setText("")  # type: ignore[attr-defined]
                search.select_receipt(receipt_no)  # type: ignore[attr-defined]
                search.clear_data()  # type: ignore[attr-defined]
                search.by_day = True  # type: ignore[attr-defined]
                search.render()
                search.search()  # type: ignore[attr-defined]
                settle(app)
                search.select_receipt(receipt_no)  # type: ignore[attr-defined]
                search.reprint()  # type: ignore[attr-defined]
                settle(app)
                search.select_receipt(receipt_no)  # type: ignore[attr-defined]
                grab("08-search-reprint")

                step(lambda: window.show_page("queue"), "09-queue-agent")
                window.sign_out("signed out")
                settle(app)
                signin.user_edit.setText("zhao.min")
                signin.pin_edit.setText(SUPERVISOR_PIN)
                signin.submit()
                settle(app)
                window.show_page("queue")
                settle(app)
                queue = window.page("queue")
                dead = queue.overview.dead[0]  # type: ignore[attr-defined]
                queue.select_dead(dead.receipt_no)  # type: ignore[attr-defined]
                queue.reason_edit.setText("已电话联系申请人重新申请" if lang_name == "zh"  # type: ignore[attr-defined]
                                          else "called the citizen: they will apply again")
                grab("10-queue-supervisor")
                step(lambda: window.show_page("report"), "11-daily-summary")
                window.show_page("help")
                settle(app)
                grab("12-help-requests")
                central.stop()
                window.refresh_help()
                settle(app)
                grab("13-help-offline")
                window.sign_out("idle")
                settle(app)
                grab("14-signed-out-idle")
            finally:
                window.shutdown()
                window.close()
                settle(app)
                reader.stop()
                backend.close()
                window.deleteLater()
                settle(app)
    return written


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots; exit 0 when every page was grabbed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", choices=tuple(SIZES), nargs="+", default=["1920x1080"])
    parser.add_argument("--lang", choices=tuple(LANGS), nargs="+", default=list(LANGS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    count = 0
    for size_name in args.size:
        for lang_name in args.lang:
            files = shoot(app, args.out, size_name, lang_name)
            count += len(files)
            log.warning("%s %s: %d screenshots", size_name, lang_name, len(files))
    sys.stdout.write(f"{count} screenshots in {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
