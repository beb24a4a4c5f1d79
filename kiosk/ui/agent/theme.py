"""The agent station's look: the kiosk's colours and roles at desktop sizes (mouse and keyboard).

The application style sheet (:func:`kiosk.ui.theme.apply_theme`) is sized for touch; the
agent window sets this sheet on itself, which wins over the application's for everything
inside it, so the same widgets (field cards, buttons with roles) read well at 1366x768.
"""

from __future__ import annotations

from kiosk.ui.theme import NORMAL

BODY = 17
SMALL = 15
TITLE = 26
CONTROL = 38  # px; minimum height of buttons and edits


def agent_stylesheet() -> str:
    """The Qt style sheet of the agent window."""
    p = NORMAL
    return f"""
QWidget {{ color: {p.text}; font-size: {BODY}px; }}
QWidget#AgentRoot, QStackedWidget, QScrollArea, QScrollArea > QWidget > QWidget {{ background: {p.background}; }}
QLabel {{ background: transparent; }}
QLabel[role="title"] {{ font-size: {TITLE}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="hero"] {{ font-size: {TITLE + 8}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="subtitle"] {{ font-size: {BODY + 1}px; color: {p.muted}; }}
QLabel[role="section"] {{ font-size: {BODY + 1}px; font-weight: bold; color: {p.primary_dark}; }}
QLabel[role="muted"], QLabel[role="example"] {{ color: {p.muted}; font-size: {SMALL}px; }}
QLabel[role="error"] {{ color: {p.error}; font-weight: bold; font-size: {SMALL + 1}px; }}
QLabel[role="banner-error"] {{ color: {p.error}; background: {p.error_soft}; border: 2px solid {p.error};
    border-radius: 8px; padding: 8px 14px; font-weight: bold; }}
QLabel[role="banner-ok"] {{ color: {p.success}; background: #e7f4ec; border: 2px solid {p.success};
    border-radius: 8px; padding: 8px 14px; font-weight: bold; }}
QLabel[role="badge"] {{ color: {p.primary_dark}; background: {p.accent_soft}; border-radius: 8px;
    padding: 2px 10px; font-size: {SMALL}px; }}
QLabel[role="required"] {{ color: {p.error}; font-size: {SMALL}px; }}
QLabel[role="receipt"] {{ font-size: {TITLE + 6}px; font-weight: bold; color: {p.primary_dark};
    background: {p.surface}; border: 3px solid {p.primary}; border-radius: 12px; padding: 12px 24px; }}
QLabel[role="ok"] {{ color: {p.success}; font-weight: bold; }}
QLabel[role="figure"] {{ font-size: {TITLE}px; font-weight: bold; color: {p.primary_dark}; }}
QFrame[role="card"] {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 10px; }}
QFrame[role="card-error"] {{ background: {p.surface}; border: 2px solid {p.error}; border-radius: 10px; }}
QFrame#AgentBar {{ background: {p.strip}; }}
QFrame#AgentBar QLabel {{ color: {p.on_strip}; font-size: {SMALL + 1}px; }}
QFrame#AgentBar QLabel[role="hall"] {{ font-size: {BODY + 2}px; font-weight: bold; }}
QFrame#AgentBar QPushButton {{ background: transparent; color: {p.on_strip}; border: 1px solid {p.on_strip};
    border-radius: 8px; min-height: 32px; padding: 0 14px; font-size: {SMALL}px; }}
QFrame#AgentBar QPushButton[role="signout"] {{ background: #f2b705; color: #1b1b1b; border: none; font-weight: bold; }}
QFrame#AgentNav {{ background: {p.surface}; border-right: 1px solid {p.border}; }}
QPushButton {{ min-height: {CONTROL}px; padding: 0 18px; border-radius: 8px; font-size: {BODY}px;
    background: {p.surface}; color: {p.primary_dark}; border: 1px solid {p.primary}; }}
QPushButton:hover {{ background: {p.accent_soft}; }}
QPushButton:disabled {{ color: #8a94a3; border-color: #b8c0cc; background: #f1f3f6; }}
QPushButton[role="primary"] {{ background: {p.primary}; color: {p.on_primary}; border: none; font-weight: bold; }}
QPushButton[role="primary"]:hover {{ background: {p.primary_dark}; }}
QPushButton[role="primary"]:disabled {{ background: #9fb3cf; color: #ffffff; }}
QPushButton[role="danger"] {{ color: {p.error}; border-color: {p.error}; }}
QPushButton[role="link"] {{ background: transparent; border: 1px solid {p.primary}; color: {p.primary};
    min-height: 30px; padding: 0 12px; font-size: {SMALL}px; }}
QPushButton[role="choice"] {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border};
    padding: 0 16px; }}
QPushButton[role="choice"]:checked {{ background: {p.primary}; color: {p.on_primary}; border: 1px solid {p.primary};
    font-weight: bold; }}
QPushButton[role="nav"] {{ background: transparent; border: none; border-radius: 0; text-align: left;
    padding: 0 18px; min-height: 48px; color: {p.text}; border-left: 6px solid transparent; }}
QPushButton[role="nav"]:hover {{ background: {p.accent_soft}; }}
QPushButton[role="nav"]:checked {{ background: {p.accent_soft}; color: {p.primary_dark};
    border-left: 6px solid {p.primary}; font-weight: bold; }}
QPushButton[role="service"] {{ text-align: left; padding: 6px 16px; background: {p.surface};
    border: 1px solid {p.border}; color: {p.text}; }}
QLineEdit, QPlainTextEdit, QComboBox, QDateEdit {{ background: {p.surface}; border: 1px solid {p.border};
    border-radius: 6px; padding: 4px 10px; min-height: {CONTROL - 10}px; font-size: {BODY}px; color: {p.text}; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QDateEdit:focus {{ border: 2px solid {p.primary}; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 2px solid {p.error}; }}
QComboBox QAbstractItemView {{ font-size: {BODY}px; background: {p.surface}; }}
QTableWidget, QListWidget {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 6px;
    gridline-color: {p.border}; font-size: {SMALL + 1}px; selection-background-color: {p.primary};
    selection-color: {p.on_primary}; }}
QTableWidget::item {{ padding: 2px 12px; }}
QListWidget::item {{ padding: 10px 14px; border-bottom: 1px solid {p.border}; }}
QListWidget::item:hover {{ background: {p.accent_soft}; }}
QHeaderView::section {{ background: {p.accent_soft}; color: {p.primary_dark}; font-weight: bold;
    border: none; border-right: 1px solid {p.border}; padding: 6px 12px; font-size: {SMALL}px; }}
QCheckBox {{ font-size: {BODY}px; }}
QScrollBar:vertical {{ width: 14px; background: {p.background}; }}
QScrollBar::handle:vertical {{ background: {p.border}; border-radius: 6px; min-height: 40px; }}
QProgressBar {{ border: none; background: {p.border}; border-radius: 4px; height: 8px; }}
QProgressBar::chunk {{ background: {p.primary}; border-radius: 4px; }}
"""
