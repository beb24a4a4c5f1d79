"""The kiosk's state: language and type size for everyone, and one citizen's session.

:class:`KioskState` is the one object screens share. It says which language and theme are
in force (and signals when they change, so every screen re-renders), and holds the current
:class:`Session`: the service chosen, the wizard with the answers, the files scanned and
the receipt. :meth:`Session.wipe` forgets all of it; nothing survives a session's end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from forms import Catalog, I18nText, ServiceDefinition, Wizard
from forms.search import SearchIndex
from kiosk.i18n import tr
from kiosk.ui.backend import KioskBackend, PrintOutcome
from sync.submission import Attachment, EnqueuedSubmission

log = logging.getLogger(__name__)


@dataclass
class Session:
    """One citizen at the kiosk, from choosing a service to the rating."""

    service: ServiceDefinition | None = None
    wizard: Wizard | None = None
    identified_by: str = ""  # "card" or "typed"
    files: dict[str, Attachment] = field(default_factory=dict)  # sha256 -> scanned file or signature
    submission: EnqueuedSubmission | None = None
    print_outcome: PrintOutcome | None = None
    return_to_review: bool = False

    def wipe(self) -> None:
        """Forget everything about this citizen."""
        if self.wizard is not None:
            self.wizard.wipe()
        self.service = None
        self.wizard = None
        self.identified_by = ""
        self.files.clear()
        self.submission = None
        self.print_outcome = None
        self.return_to_review = False

    @property
    def active(self) -> bool:
        """True once a citizen has started something worth wiping."""
        return self.service is not None


@dataclass(frozen=True)
class Hall:
    """The service hall's name in both languages."""

    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        """The name in ``lang``."""
        return self.name_en if lang == "en" else self.name_zh


class KioskState(QObject):
    """Language, theme, catalog and the current session, shared by every screen."""

    appearance_changed = Signal()  # language or large type: screens re-render
    central_state_changed = Signal(str)  # "online" | "offline" | "unknown" (the sync engine reports)

    def __init__(
        self,
        *,
        catalog: Catalog,
        backend: KioskBackend,
        hall: Hall,
        language: str = "zh_CN",
        large_type: bool = False,
        demo: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.search_index = SearchIndex.build(catalog.services)
        self.backend = backend
        self.hall = hall
        self.default_language = language
        self.default_large_type = large_type
        self.lang = language
        self.large_type = large_type
        self.demo = demo
        self.session = Session()

    # --- text --------------------------------------------------------------------------

    def tr(self, key: str, **params: Any) -> str:
        """A UI string in the current language."""
        return tr(self.lang, key, **params)

    def text(self, value: I18nText | None) -> str:
        """A catalog text in the current language ('' for None)."""
        return value.get(self.lang) if value is not None else ""

    # --- appearance ----------------------------------------------------------------------

    def replace_catalog(self, catalog: Catalog) -> None:
        """Use a newly applied catalog (between sessions only)."""
        self.catalog = catalog
        self.search_index = SearchIndex.build(catalog.services)
        log.info("catalog replaced: %d services", len(catalog.services))

    def set_language(self, lang: str) -> None:
        """Switch the language; every screen re-renders."""
        if lang != self.lang:
            self.lang = lang
            log.info("language switched to %s", lang)
            self.appearance_changed.emit()

    def set_large_type(self, large: bool) -> None:
        """Switch large-type, high-contrast mode; every screen re-renders."""
        if large != self.large_type:
            self.large_type = large
            log.info("large type %s", "on" if large else "off")
            self.appearance_changed.emit()

    def reset_appearance(self) -> None:
        """Back to the configured language and type size (the next citizen starts fresh)."""
        changed = (self.lang, self.large_type) != (self.default_language, self.default_large_type)
        self.lang, self.large_type = self.default_language, self.default_large_type
        if changed:
            self.appearance_changed.emit()
