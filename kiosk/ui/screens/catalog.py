"""The service catalog: categories on the left, services on the right, search on top.

Search takes Chinese (居住), pinyin initials (jzz) or English (permit): see
:mod:`forms.search`. A search looks through every category. Touching the search box brings
up the on-screen keyboard (in place of the categories on a landscape screen, under the list
on a portrait one); in pinyin mode the list follows the pinyin as it is typed, before a
candidate is chosen.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from forms import ServiceDefinition
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, clear_layout, label
from kiosk.ui.widgets.osk import OnScreenKeyboard

ALL = ""


class CatalogScreen(Screen):
    """Choose a service."""

    name = "catalog"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.category = ALL
        self.query = ""
        self._list_layout: QVBoxLayout | None = None

    def build(self, layout: QVBoxLayout) -> None:
        """Title, search box, categories and the list."""
        s = self.state
        top = QHBoxLayout()
        top.addWidget(label(s.tr("catalog.title"), "title", name="title"), 1)
        self.search = QLineEdit(self.query)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(s.tr("catalog.search_hint"))
        self.search.setMinimumWidth(520)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)
        top.addWidget(self.search, 1)
        layout.addLayout(top)

        body = QHBoxLayout()
        body.setSpacing(28)
        categories = QWidget()
        categories.setObjectName("categories")
        column = QVBoxLayout(categories)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.category_buttons = {}
        for category_id, text in [(ALL, s.tr("catalog.all")), *((c.id, s.text(c.name)) for c in s.catalog.categories)]:
            widget = button(text, lambda c=category_id: self._choose_category(c), "category", checkable=True,
                            name=f"category_{category_id or 'all'}", wrap=True)
            widget.setChecked(category_id == self.category and not self.query)
            column.addWidget(widget)
            self.category_buttons[category_id] = widget
        column.addStretch(1)
        self._categories = self.scroll(categories)
        body.addWidget(self._categories, 3 if self.shell.width() >= 1500 else 4)

        services = QWidget()
        self._list_layout = QVBoxLayout(services)
        self._list_layout.setContentsMargins(0, 0, 8, 0)
        self._list_layout.setSpacing(16)
        body.addWidget(self.scroll(services), 7 if self.shell.width() >= 1500 else 6)
        layout.addLayout(body, 1)
        self.keyboard = OnScreenKeyboard(s, self)
        self.keyboard.hide()
        self.keyboard.target_changed.connect(self._keyboard_target)
        self.keyboard.composing.connect(lambda pinyin: self._search_changed(self.search.text() + pinyin))
        if self.shell.width() >= 1500:
            body.addWidget(self.keyboard, 6)
        else:
            layout.addWidget(self.keyboard)
        self._fill_list()

        row = self.footer(layout)
        row.addWidget(button(s.tr("common.home"), self.shell.home, name="home"))
        row.addStretch(1)

    def _keyboard_target(self, box: QWidget | None) -> None:
        """The search box was touched (keyboard up, categories out of the way) or let go."""
        typing = box is not None
        self.keyboard.setVisible(typing)
        if self.shell.width() >= 1500:
            self._categories.setVisible(not typing)

    def _services(self) -> list[ServiceDefinition]:
        s = self.state
        if self.query.strip():
            return s.search_index.search(self.query)
        if self.category == ALL:
            return list(s.catalog.services)
        return list(s.catalog.in_category(self.category))

    def _fill_list(self) -> None:
        if self._list_layout is None:
            return
        clear_layout(self._list_layout)
        s = self.state
        found = self._services()
        if self.query.strip():
            self._list_layout.addWidget(label(s.tr("catalog.results", count=len(found), query=self.query.strip()),
                                              "muted", name="result_count"))
        for service in found:
            text = f"{s.text(service.name)}\n{s.text(service.department)}"
            if not service.guide.completable_at_kiosk:
                text += " · " + s.tr("catalog.window_only")
            widget = button(text, lambda sv=service: self.shell.open_guide(sv), "service",
                            name=f"service_{service.id}", wrap=True)
            self._list_layout.addWidget(widget)
        if not found:
            self._list_layout.addWidget(label(s.tr("catalog.nothing_found"), "subtitle", name="nothing_found"))
        self._list_layout.addStretch(1)

    def _choose_category(self, category_id: str) -> None:
        self.category = category_id
        for cid, widget in self.category_buttons.items():
            widget.setChecked(cid == category_id)
        if self.query:
            self.search.clear()  # clears the query through _search_changed
        else:
            self._fill_list()

    def _search_changed(self, text: str) -> None:
        self.query = text
        for widget in self.category_buttons.values():
            widget.setChecked(False)
        if not text.strip():
            self.category_buttons[self.category].setChecked(True)
        self._fill_list()

    def reset(self) -> None:
        """Forget the list widgets (the query is kept until the session ends)."""
        self._list_layout = None
        super().reset()

    def clear_session(self) -> None:
        """A new citizen: no query, all categories."""
        self.category = ALL
        self.query = ""
