"""A signature pad: the citizen signs with a finger; the result is a PNG image."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

INK = QColor("#0a1a33")
PEN_WIDTH = 5.0


class SignaturePad(QWidget):
    """A white box to sign in; emits :attr:`signed` after each stroke and :attr:`cleared`."""

    signed = Signal()
    cleared = Signal()

    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SignaturePad")
        self.setMinimumHeight(260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, False)  # touch arrives as mouse events
        self.hint = hint
        self._strokes: list[QPainterPath] = []
        self._current: QPainterPath | None = None
        self._previous: QPixmap | None = None  # a signature made earlier in this session

    # --- state ---------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True while nothing is drawn."""
        return not self._strokes and self._previous is None

    def clear(self) -> None:
        """Wipe the pad."""
        self._strokes.clear()
        self._current = None
        self._previous = None
        self.update()
        self.cleared.emit()

    def show_previous(self, png: bytes) -> None:
        """Show a signature already given (after a re-render), without strokes to extend."""
        pixmap = QPixmap()
        if pixmap.loadFromData(png, "PNG"):
            self._previous = pixmap
            self.update()

    def to_png(self) -> bytes:
        """The signature as a PNG with a white background, the size of the pad."""
        image = QImage(self.size(), QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        self._draw_ink(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    # --- drawing -------------------------------------------------------------------------

    def _draw_ink(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._previous is not None:
            painter.drawPixmap(0, 0, self._previous)
        pen = QPen(INK, PEN_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for path in self._strokes:
            painter.drawPath(path)

    def paintEvent(self, event: QPaintEvent) -> None:
        """White box, a base line, the hint while empty, the ink."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setPen(QPen(QColor("#1554a5"), 3))
        painter.drawRoundedRect(self.rect().adjusted(1, 1, -2, -2), 14, 14)
        base_y = int(self.height() * 0.75)
        painter.setPen(QPen(QColor("#9aa7b8"), 2, Qt.PenStyle.DashLine))
        painter.drawLine(40, base_y, self.width() - 40, base_y)
        if self.is_empty and self.hint:
            painter.setPen(QColor("#7b8797"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.hint)
        self._draw_ink(painter)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke."""
        self._current = QPainterPath(QPointF(event.position()))
        self._strokes.append(self._current)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Extend the stroke."""
        if self._current is not None:
            self._current.lineTo(QPointF(event.position()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End the stroke: a tap leaves a dot; the signature changed."""
        if self._current is not None:
            point = QPointF(event.position())
            self._current.lineTo(point + QPointF(0.5, 0.5))
            self._current = None
            self.update()
            self.signed.emit()
