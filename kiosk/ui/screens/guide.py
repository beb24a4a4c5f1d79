"""The service guide (办事指南): who can apply, what to bring, how long, what it costs, where."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, label


class GuideScreen(Screen):
    """Everything a citizen should know before starting, in plain words."""

    name = "guide"

    def build(self, layout: QVBoxLayout) -> None:
        """Name and description, the guide's cards, then back / start."""
        s = self.state
        service = s.session.service
        if service is None:  # nothing chosen (a wiped session): nothing to show
            return
        g = service.guide
        self.header(layout, s.text(service.name), s.text(service.description))

        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(0, 0, 8, 0)
        grid.setSpacing(24)
        wide = self.shell.width() >= 1500

        materials = []
        for m in g.materials:
            line = s.tr("guide.material", name=s.text(m.name), form=s.tr(f"guide.form.{m.form}"), copies=m.copies)
            if m.required is not True:
                line += " " + s.tr("guide.material_conditional")
            if m.scannable:
                line += " " + s.tr("guide.material_scannable")
            materials.append(line)
        if g.is_free:
            fees = [s.tr("guide.free")]
        else:
            fees = [s.tr("guide.fee", name=s.text(f.name), amount=_yuan(f.amount_cny)) for f in g.fees]
        if g.promised_working_days == 0:
            time_lines = [s.tr("guide.on_the_spot")]
        else:
            time_lines = [s.tr("guide.promised_days", days=g.promised_working_days),
                          s.tr("guide.legal_days", days=g.legal_working_days)]
        at_kiosk = [s.tr("guide.kiosk_yes" if g.completable_at_kiosk else "guide.kiosk_no")]
        if g.kiosk_note is not None:
            at_kiosk.append(s.text(g.kiosk_note))
        where = [s.text(g.where)]
        if g.contact_phone:
            where.append(s.tr("guide.phone", phone=g.contact_phone))
        sections = [
            ("guide.at_kiosk", at_kiosk, "at_kiosk"),
            ("guide.materials", materials, "materials"),
            ("guide.eligibility", [s.text(e) for e in g.eligibility], "eligibility"),
            ("guide.time_limit", time_lines, "time_limit"),
            ("guide.fees", fees, "fees"),
            ("guide.where", where, "where"),
        ]
        for index, (title_key, lines, name) in enumerate(sections):
            frame, box = card()
            frame.setObjectName(f"guide_{name}")
            box.addWidget(label(s.tr(title_key), "section"))
            for line in lines:
                box.addWidget(label(("• " if len(lines) > 1 else "") + line))
            box.addStretch(1)
            if wide:
                grid.addWidget(frame, index // 2, index % 2)
            else:
                grid.addWidget(frame, index, 0)
        layout.addWidget(self.scroll(inner), 1)

        row = self.footer(layout)
        row.addWidget(button(s.tr("common.back"), lambda: self.shell.go("catalog"), name="back"))
        row.addStretch(1)
        if g.completable_at_kiosk:
            row.addWidget(button(s.tr("guide.start"), lambda: self.shell.go("identify"), "primary", name="start"))
        else:
            row.addWidget(button(s.tr("common.home"), self.shell.home, "primary", name="home"))


def _yuan(amount: Decimal) -> str:
    text = f"{amount:.2f}"
    return text[:-3] if text.endswith(".00") else text
