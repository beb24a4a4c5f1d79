"""Voice guidance: the kiosk reads each screen's instruction and validation messages aloud.

Qt's QtTextToSpeech does the speaking. On Linux its ``speechd`` engine talks to
speech-dispatcher (with espeak-ng, which has Mandarin and English voices); a machine
without a usable engine gets no voice and a single log line, never an error on screen.
The citizen switches voice on and off with the status strip's 朗读 button; the next
citizen starts with the configured default.

QtTextToSpeech needs ``libpulse0`` to load at all (see ENVIRONMENT.md), so it is imported
only when voice is first used.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QLocale, QObject

log = logging.getLogger(__name__)

LOCALES = {"zh_CN": QLocale(QLocale.Language.Chinese, QLocale.Country.China),
           "en": QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)}


class Voice(QObject):
    """Speaks text in the citizen's language, if an engine is available and voice is on."""

    def __init__(self, engine: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine_name = engine
        self._tts: Any = None
        self._failed = False
        self.spoken: list[str] = []  # the last few things said (for the staff screen and tests)

    @property
    def available(self) -> bool:
        """Whether an engine could be started (tries once)."""
        return self._engine() is not None

    def _engine(self) -> Any:
        if self._tts is not None or self._failed:
            return self._tts
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as exc:  # libpulse0 missing, or a build without the Addons
            log.warning("voice guidance unavailable: %s (fix: apt-get install libpulse0 speech-dispatcher "
                        "espeak-ng)", exc)
            self._failed = True
            return None
        engines = QTextToSpeech.availableEngines()
        name = self.engine_name or next((e for e in engines if e != "mock"), "")
        if not name or name not in engines:
            log.warning("voice guidance unavailable: no text-to-speech engine %r (have %s; fix: apt-get install "
                        "speech-dispatcher espeak-ng, or set [terminal] voice_engine)", name, engines)
            self._failed = True
            return None
        tts = QTextToSpeech(name, self)
        if tts.state() == QTextToSpeech.State.Error:
            log.warning("voice guidance unavailable: engine %s: %s", name, tts.errorString())
            self._failed = True
            return None
        self._tts = tts
        log.info("voice guidance engine %s", name)
        return tts

    def say(self, text: str, lang: str) -> bool:
        """Say ``text`` in ``lang`` (interrupting whatever is being said); whether it was spoken."""
        text = text.strip()
        tts = self._engine() if text else None
        if tts is None:
            return False
        locale = LOCALES.get(lang)
        if locale is not None and any(loc.language() == locale.language() for loc in tts.availableLocales()):
            tts.setLocale(locale)
        tts.stop()
        tts.say(text)
        self.spoken = [*self.spoken[-9:], text]
        return True

    def stop(self) -> None:
        """Stop speaking at once (voice switched off, session ended)."""
        if self._tts is not None:
            self._tts.stop()
        self.spoken = []
