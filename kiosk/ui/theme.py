"""Look and feel: the shipped CJK font, colours, sizes and the application style sheet.

Two themes: the normal one (calm government blue on a light background) and large type
(bigger text, black on white, thicker borders) for older citizens. Sizes are pixels for a
1920x1080 (or 1080x1920) screen of about 21-24 inches, where 90 px is about 15 mm: every
touch target is at least ``TOUCH_MIN`` high. Widgets say what they are with the dynamic
property ``role`` (``title``, ``choice``, ``primary``...) and the sheet styles the roles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QWidget

import printing

log = logging.getLogger(__name__)

FONT_FILE = Path(printing.__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
FALLBACK_FAMILY = "WenQuanYi Micro Hei"
TOUCH_MIN = 96  # px; >= 15 mm on a 1080p kiosk screen


@dataclass(frozen=True)
class Palette:
    """The colours of one theme."""

    background: str
    surface: str
    text: str
    muted: str
    primary: str
    primary_dark: str
    on_primary: str
    accent_soft: str
    border: str
    error: str
    error_soft: str
    success: str
    strip: str
    on_strip: str


NORMAL = Palette(
    background="#eef2f8",
    surface="#ffffff",
    text="#1b2430",
    muted="#4b5767",
    primary="#1554a5",
    primary_dark="#0d3d7d",
    on_primary="#ffffff",
    accent_soft="#e3ecf8",
    border="#c5d0de",
    error="#b3261e",
    error_soft="#fdeceb",
    success="#17703a",
    strip="#0d3d7d",
    on_strip="#ffffff",
)
HIGH_CONTRAST = Palette(
    background="#ffffff",
    surface="#ffffff",
    text="#000000",
    muted="#1a1a1a",
    primary="#00337a",
    primary_dark="#001f4d",
    on_primary="#ffffff",
    accent_soft="#fff3b0",
    border="#000000",
    error="#a00000",
    error_soft="#ffe5e5",
    success="#005a1e",
    strip="#000000",
    on_strip="#ffffff",
)


@dataclass(frozen=True)
class Sizes:
    """Font sizes (px) and spacing of one theme."""

    body: int
    small: int
    title: int
    hero: int
    button: int
    border: int
    scale: float


NORMAL_SIZES = Sizes(body=28, small=24, title=44, hero=60, button=32, border=2, scale=1.0)
LARGE_SIZES = Sizes(body=38, small=32, title=56, hero=76, button=42, border=3, scale=1.3)

_family: str | None = None


def load_font() -> str:
    """Load the shipped CJK font into Qt (once) and return its family name.

    The font comes from the repository, so Chinese renders on a machine without any system
    CJK font; when the file is missing the log says so and Qt falls back to system fonts.
    """
    global _family
    if _family is not None:
        return _family
    font_id = QFontDatabase.addApplicationFont(str(FONT_FILE)) if FONT_FILE.is_file() else -1
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        _family = families[0]
        log.info("UI font %s loaded from %s", _family, FONT_FILE)
    else:
        _family = FALLBACK_FAMILY
        log.error("cannot load the CJK font %s: Chinese may show as boxes (reinstall the software)", FONT_FILE)
    return _family


def apply_theme(app: QApplication, large: bool) -> None:
    """Set the application font and style sheet for normal or large type."""
    family = load_font()
    sizes = LARGE_SIZES if large else NORMAL_SIZES
    font = QFont(family)
    font.setPixelSize(sizes.body)
    app.setFont(font)
    app.setStyleSheet(stylesheet(large))


def sizes(large: bool) -> Sizes:
    """The sizes of the theme."""
    return LARGE_SIZES if large else NORMAL_SIZES


def set_role(widget: QWidget, role: str) -> QWidget:
    """Tag ``widget`` with a style role and re-polish it; returns the widget.

    A widget not polished yet (just made, not shown) takes the role's style when it is first
    polished; re-polishing it now would only cost time (a tenth of building a screen).
    """
    widget.setProperty("role", role)
    if widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
        widget.style().unpolish(widget)
        widget.style().polish(widget)
    return widget


def stylesheet(large: bool) -> str:
    """The Qt style sheet of the theme."""
    p = HIGH_CONTRAST if large else NORMAL
    s = sizes(large)
    b = s.border
    touch = int(TOUCH_MIN * (1.1 if large else 1.0))
    return f"""
QWidget {{ color: {p.text}; font-size: {s.body}px; }}
QWidget#KioskRoot, QStackedWidget, QScrollArea, QScrollArea > QWidget > QWidget {{ background: {p.background}; }}
QLabel {{ background: transparent; }}
QLabel[role="title"] {{ font-size: {s.title}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="hero"] {{ font-size: {s.hero}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="subtitle"] {{ font-size: {s.body + 4}px; color: {p.muted}; }}
QLabel[role="section"] {{ font-size: {s.body + 2}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="muted"] {{ color: {p.muted}; font-size: {s.small}px; }}
QLabel[role="example"] {{ color: {p.muted}; font-size: {s.small}px; }}
QLabel[role="error"] {{ color: {p.error}; font-weight: bold; font-size: {s.small + 2}px; }}
QLabel[role="banner-error"] {{ color: {p.error}; background: {p.error_soft}; border: {b}px solid {p.error};
    border-radius: 12px; padding: 16px 24px; font-weight: bold; }}
QLabel[role="badge"] {{ color: {p.primary_dark}; background: {p.accent_soft}; border-radius: 10px;
    padding: 4px 14px; font-size: {s.small}px; }}
QLabel[role="required"] {{ color: {p.error}; font-size: {s.small}px; }}
QLabel[role="receipt"] {{ font-size: {s.hero}px; font-weight: bold; color: {p.primary_dark};
    background: {p.surface}; border: {b + 1}px solid {p.primary}; border-radius: 16px; padding: 24px 40px; }}
QLabel[role="ok"] {{ color: {p.success}; font-weight: bold; }}
QFrame[role="card"] {{ background: {p.surface}; border: {b}px solid {p.border}; border-radius: 18px; }}
QFrame[role="card-error"] {{ background: {p.surface}; border: {b + 1}px solid {p.error}; border-radius: 18px; }}
QFrame[role="overlay"] {{ background: rgba(0, 0, 0, 150); }}
QFrame[role="dialog"] {{ background: {p.surface}; border: {b + 1}px solid {p.primary}; border-radius: 24px; }}
QFrame#StatusStrip {{ background: {p.strip}; }}
QFrame#StatusStrip QLabel {{ color: {p.on_strip}; font-size: {s.small}px; }}
QFrame#StatusStrip QLabel[role="hall"] {{ font-size: {s.body}px; font-weight: bold; }}
QFrame#StatusStrip QPushButton {{ background: transparent; color: {p.on_strip}; border: {b}px solid {p.on_strip};
    border-radius: 12px; min-height: {max(90, touch - 6)}px; padding: 0 22px; font-size: {s.small}px; }}
QFrame#StatusStrip QPushButton:checked {{ background: {p.on_strip}; color: {p.strip}; }}
QFrame#StatusStrip QPushButton[role="staff"] {{ background: #f2b705; color: #1b1b1b; border: none; font-weight: bold; }}
QPushButton {{ min-height: {touch}px; padding: 0 32px; border-radius: 16px; font-size: {s.button}px;
    background: {p.surface}; color: {p.primary_dark}; border: {b}px solid {p.primary}; }}
QPushButton:pressed {{ background: {p.accent_soft}; }}
QPushButton:disabled {{ color: #8a94a3; border-color: #b8c0cc; background: #f1f3f6; }}
QPushButton[role="primary"] {{ background: {p.primary}; color: {p.on_primary}; border: none; font-weight: bold; }}
QPushButton[role="primary"]:pressed {{ background: {p.primary_dark}; }}
QPushButton[role="primary"]:disabled {{ background: #9fb3cf; color: #ffffff; }}
QPushButton[role="tile"] {{ background: {p.primary}; color: {p.on_primary}; border: none; border-radius: 24px;
    font-size: {s.title}px; font-weight: bold; padding: 24px; }}
QPushButton[role="tile"]:pressed {{ background: {p.primary_dark}; }}
QPushButton[role="tile-secondary"] {{ background: {p.surface}; color: {p.primary_dark};
    border: {b + 1}px solid {p.primary}; border-radius: 24px; font-size: {s.title - 6}px; font-weight: bold;
    padding: 24px; }}
QPushButton[role="service"] {{ text-align: left; padding: 18px 32px; min-height: {touch + 20}px;
    background: {p.surface}; border: {b}px solid {p.border}; color: {p.text}; }}
QPushButton[role="service"]:pressed {{ background: {p.accent_soft}; }}
QPushButton[role="choice"] {{ background: {p.surface}; color: {p.text}; border: {b}px solid {p.border};
    padding: 0 28px; }}
QPushButton[role="choice"]:checked {{ background: {p.primary}; color: {p.on_primary}; border: {b}px solid {p.primary};
    font-weight: bold; }}
QPushButton[role="category"] {{ background: transparent; border: none; border-radius: 0; text-align: left;
    padding: 0 24px; color: {p.text}; border-left: 8px solid transparent; }}
QPushButton[role="category"]:checked {{ background: {p.surface}; color: {p.primary_dark};
    border-left: 8px solid {p.primary}; font-weight: bold; }}
QPushButton[role="key"] {{ font-size: {s.title}px; min-height: {touch}px; min-width: {touch + 20}px;
    padding: 0; background: {p.surface}; color: {p.text}; border: {b}px solid {p.border}; }}
QPushButton[role="key"]:pressed {{ background: {p.accent_soft}; }}
QPushButton[role="key-small"] {{ font-size: {s.button}px; min-height: {touch}px; min-width: {touch * 3 // 4}px;
    padding: 0; background: {p.surface}; color: {p.text}; border: {b}px solid {p.border}; }}
QPushButton[role="key-small"]:pressed {{ background: {p.accent_soft}; }}
QFrame#OnScreenKeyboard {{ background: {p.background}; border: {b}px solid {p.border}; border-radius: 18px; }}
QPushButton[role="osk-key"] {{ font-size: {s.button + 4}px; min-height: {touch}px; padding: 0; border-radius: 12px;
    background: {p.surface}; color: {p.text}; border: {b}px solid {p.border}; }}
QPushButton[role="osk-key"]:pressed {{ background: {p.primary}; color: {p.on_primary}; }}
QPushButton[role="osk-special"] {{ font-size: {s.button}px; min-height: {touch}px; padding: 0 8px; border-radius: 12px;
    background: {p.accent_soft}; color: {p.primary_dark}; border: {b}px solid {p.primary}; font-weight: bold; }}
QPushButton[role="osk-special"]:pressed, QPushButton[role="osk-special"]:checked {{ background: {p.primary};
    color: {p.on_primary}; }}
QPushButton#osk_previous, QPushButton#osk_next {{ font-size: {s.title}px; }}
QPushButton[role="osk-special"]:disabled {{ color: #8a94a3; background: {p.surface}; border-color: #b8c0cc; }}
QPushButton[role="osk-candidate"] {{ font-size: {s.title - 4}px; min-height: {touch}px; padding: 0 14px;
    border-radius: 12px; background: {p.surface}; color: {p.text}; border: {b}px solid {p.primary}; }}
QPushButton[role="osk-candidate"]:pressed {{ background: {p.primary}; color: {p.on_primary}; }}
QLabel[role="osk-composition"] {{ font-size: {s.body}px; color: {p.primary_dark}; font-weight: bold; }}
QPushButton[role="link"] {{ background: transparent; border: {b}px solid {p.primary}; color: {p.primary};
    min-height: {touch - 6}px; padding: 0 24px; font-size: {s.small + 2}px; }}
QPushButton[role="danger"] {{ color: {p.error}; border-color: {p.error}; }}
QLineEdit, QPlainTextEdit, QComboBox {{ background: {p.surface}; border: {b}px solid {p.border}; border-radius: 12px;
    padding: 8px 18px; min-height: {touch - 16}px; font-size: {s.button}px; color: {p.text}; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus {{ border: {b + 2}px solid {p.primary}; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: {b + 1}px solid {p.error}; }}
QComboBox QAbstractItemView {{ font-size: {s.button}px; background: {p.surface}; }}
QComboBox QAbstractItemView::item {{ min-height: {touch - 16}px; }}
QScrollBar:vertical {{ width: 28px; background: {p.background}; }}
QScrollBar::handle:vertical {{ background: {p.border}; border-radius: 12px; min-height: 80px; }}
QProgressBar {{ border: none; background: {p.border}; border-radius: 8px; height: 16px; }}
QProgressBar::chunk {{ background: {p.primary}; border-radius: 8px; }}
"""
