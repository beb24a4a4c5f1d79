"""Texts from outside (platform reasons, what staff typed) are shown as text, never as markup."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QTextDocument

from kiosk.ui.agent.pages import table

HOSTILE = [
    '<img src="file:///etc/shadow">',
    "<b>OK</b> <a href='http://example.invalid'>click</a>",
    "<table><tr><td>fake row</td></tr></table>",
    "a &amp; b &lt; c",
    "<qt>",
]


def _shown(tooltip: str) -> str:
    """What Qt shows for a tool tip: rendered as HTML when it looks like HTML."""
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


def test_markup_in_a_table_cell_tooltip_is_shown_literally(qapp) -> None:
    widget = table(["reason"], [[text] for text in HOSTILE], name="t")
    for row, text in enumerate(HOSTILE):
        item = widget.item(row, 0)
        assert item.text() == text
        assert _shown(item.toolTip()) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("<>&\"'/ =abc张三;#x"), min_size=1, max_size=40).map(str.strip).filter(bool))
def test_any_text_of_markup_characters_survives_as_the_tooltip(qapp, text: str) -> None:
    widget = table(["reason"], [[text]], name="t")
    # Qt collapses runs of white space in HTML; the cell itself keeps them
    assert " ".join(_shown(widget.item(0, 0).toolTip()).split()) == " ".join(text.split())
