"""Voice guidance: each screen's instruction and the validation messages are read aloud.

Speech uses Qt's own ``mock`` text-to-speech engine (a real QtTextToSpeech plug-in that
pretends to speak): the test machines have no sound device. Which engine a kiosk uses is
``[terminal] voice_engine``.
"""

from __future__ import annotations

from kiosk.i18n import tr
from kiosk.ui.speech import Voice


def test_voice_reads_screens_and_errors_in_the_citizens_language_and_is_off_for_the_next(make_kiosk) -> None:
    kiosk = make_kiosk()
    voice = Voice("mock", parent=kiosk.window)
    kiosk.window.voice = voice
    assert not kiosk.state.voice_on and voice.spoken == []
    kiosk.tap("voice")
    assert kiosk.state.voice_on
    assert voice.spoken[-1].startswith(tr("zh_CN", "home.welcome"))  # the screen on show, at once
    kiosk.tap("status")
    assert voice.spoken[-1] == tr("zh_CN", "status.subtitle")
    kiosk.tap("key_1")
    kiosk.tap("look_up")
    assert voice.spoken[-1] == tr("zh_CN", "status.error_invalid")
    kiosk.tap("lang_en")
    assert voice.spoken[-1] == tr("en", "status.subtitle")
    kiosk.tap("voice")  # off: nothing more is said
    said = len(voice.spoken)
    kiosk.tap("home")
    assert len(voice.spoken) <= said and not kiosk.state.voice_on


def test_a_validation_error_is_read_with_the_field_message(make_kiosk) -> None:
    kiosk = make_kiosk()
    voice = Voice("mock", parent=kiosk.window)
    kiosk.window.voice = voice
    kiosk.tap("voice")
    kiosk.tap("start")
    kiosk.tap("service_residence-permit")
    kiosk.tap("start")
    kiosk.keypad("11010519491231002")  # 17 digits: one short
    kiosk.tap("confirm_id")
    assert voice.spoken[-1] == tr("zh_CN", "identify.error_length")


def test_without_an_engine_the_button_says_so_and_nothing_breaks(make_kiosk) -> None:
    kiosk = make_kiosk()
    kiosk.window.voice = Voice("no-such-engine", parent=kiosk.window)
    kiosk.tap("voice")
    assert kiosk.find("voice").text() == tr("zh_CN", "strip.voice_unavailable")
    kiosk.tap("start")
    assert kiosk.screen == "catalog"
