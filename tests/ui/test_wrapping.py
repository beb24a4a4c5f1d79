"""Long service and department names wrap inside their buttons instead of being cut off (portrait screens)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QFont, QFontMetrics

from kiosk.ui.widgets.common import wrap_text

WORDS = st.lists(st.sampled_from(["Municipal", "Human", "Resources", "and", "Social", "Security", "Bureau", "·",
                                  "社会保障局", "市", "住房公积金", "Window", "only"]), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(words=WORDS, width=st.integers(min_value=80, max_value=900))
def test_wrapped_lines_fit_and_keep_every_word(qapp, words: list[str], width: int) -> None:
    metrics = QFontMetrics(QFont())
    text = " ".join(words)
    wrapped = wrap_text(text, metrics, width)
    for line in wrapped.split("\n"):
        fits = metrics.horizontalAdvance(line) <= width
        single_word = " " not in line.strip() and len(line.strip()) <= max(len(w) for w in words)
        assert fits or single_word, (line, width)
    assert wrapped.replace("\n", "").replace(" ", "") == text.replace(" ", "")


def test_the_portrait_english_catalog_shows_whole_department_names(make_kiosk) -> None:
    kiosk = make_kiosk(size=(1080, 1920), language="en")
    kiosk.tap("start")
    kiosk.settle()
    button = kiosk.find("service_social-security-card-replacement")
    assert "Bureau" in button.text()  # the whole name, broken into lines, not cut off
    metrics = QFontMetrics(button.font())
    assert all(metrics.horizontalAdvance(line) <= button.width() for line in button.text().split("\n"))
