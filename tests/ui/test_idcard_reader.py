"""A real ID card reader at the kiosk: the serial protocol on a pseudo-terminal (the simulator), polled by the UI.

The simulator speaks the reader's protocol (``AA AA AA 96 69`` frames); the kiosk reads it
through the real driver exactly as it would a USB reader configured as
``[devices] idcard_port``.
"""

from __future__ import annotations

from devices.idcard_simulator import IdCardSimulator
from kiosk.i18n import tr
from kiosk.ui.devices import IdCardPoller, demo_identities


def _to_identify(kiosk) -> None:
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.wait_screen("identify")


def test_a_card_on_the_reader_fills_the_form_only_on_the_identify_screen(make_kiosk) -> None:
    elder = demo_identities()["li_xiuying"]
    with IdCardSimulator(None) as simulator:
        kiosk = make_kiosk()
        poller = IdCardPoller(simulator.port, interval=0.1)
        kiosk.window.attach_card_reader(poller)
        try:
            kiosk.window.go("home")  # a card lying on the reader at the home screen is ignored
            simulator.insert_card(elder)
            kiosk.qtbot.wait(600)
            assert kiosk.screen == "home"
            _to_identify(kiosk)
            kiosk.wait_screen("form", timeout=10_000)
            wizard = kiosk.state.session.wizard
            assert wizard.answer("name") == "李秀英" and wizard.answer("id_number") == "440305194103150027"
        finally:
            poller.stop()


def test_an_unplugged_reader_says_type_the_number_and_a_replugged_one_works(make_kiosk) -> None:
    simulator = IdCardSimulator(None).start()
    port = simulator.port
    kiosk = make_kiosk()
    poller = IdCardPoller(port, interval=0.1)
    kiosk.window.attach_card_reader(poller)
    try:
        simulator.stop()  # unplugged
        _to_identify(kiosk)
        kiosk.qtbot.waitUntil(lambda: kiosk.text("card_status") == tr("zh_CN", "identify.reader_problem"),
                              timeout=10_000)
        assert kiosk.screen == "identify"
    finally:
        poller.stop()


def test_without_a_reader_the_screen_says_to_type_the_number(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.state.demo = False
    _to_identify(kiosk)
    assert kiosk.text("card_hint") == tr("zh_CN", "identify.no_reader")
