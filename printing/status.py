"""A printer's state as a device health state, for staff screens and ``kiosk doctor``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrinterState(StrEnum):
    """What a printer reports (or what we could find out about it)."""

    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"
    UNKNOWN = "unknown"  # the backend cannot tell (e.g. a printer that does not answer status queries)


# The device health every device in the kiosk reports: ok / warning / error / unknown.
_HEALTH = {
    PrinterState.ONLINE: "ok",
    PrinterState.PAPER_NEAR_END: "warning",
    PrinterState.PAPER_OUT: "error",
    PrinterState.OFFLINE: "error",
    PrinterState.ERROR: "error",
    PrinterState.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's state and a line for staff explaining it (no personal data)."""

    state: PrinterState
    detail: str = ""

    @property
    def health(self) -> str:
        """The device health: ``ok``, ``warning``, ``error`` or ``unknown``."""
        return _HEALTH[self.state]

    @property
    def can_print(self) -> bool:
        """Whether sending a job is worth trying (unknown counts: many printers never answer)."""
        return self.state in (PrinterState.ONLINE, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN)

    def as_dict(self) -> dict[str, str]:
        """JSON-ready: ``{"state", "health", "detail"}``."""
        return {"state": self.state.value, "health": self.health, "detail": self.detail}
