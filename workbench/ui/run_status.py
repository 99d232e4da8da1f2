"""The status bar's run panel: progress, spend so far, ETA and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from workbench.services.money import usd
from workbench.services.run_service import Spend
from workbench.services.runner import Progress, RunOutcome


def format_eta(seconds: float | None) -> str:
    """ "ETA 42 s" / "ETA 3 min 5 s" / "" when unknown."""
    if seconds is None or seconds < 0:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"ETA {seconds} s"
    minutes, rest = divmod(seconds, 60)
    return (
        f"ETA {minutes} min {rest} s"
        if minutes < 60
        else f"ETA {minutes // 60} h {minutes % 60} min"
    )


def format_spend(value: float | None, synthetic_calls: int = 0) -> str:
    """ "$0.0132 spent" (+ " · 12 synthetic calls, $0" when the run had offline answers)."""
    if value is None:
        return "spend unknown"
    text = f"{usd(value)} spent"
    if synthetic_calls:
        text += f" · {synthetic_calls} synthetic call{'s' if synthetic_calls != 1 else ''}, $0"
    return text


class RunStatus(QWidget):
    """Shows one run's `services.runner.Progress`; `cancel_requested` when Cancel is pressed."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("No run in progress")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setFormat("%v / %m cells")
        self.bar.setAccessibleName("Run progress")
        self.spend = QLabel()
        self.eta = QLabel()
        self.cancel = QPushButton("Cancel run")
        self.cancel.setToolTip("Stop starting new calls; finished calls are kept (Esc)")
        self.cancel.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.spend, self.eta, self.cancel):
            layout.addWidget(widget)
        self.set_idle()

    def set_idle(self, text: str = "No run in progress") -> None:
        self.label.setText(text)
        self.bar.hide()
        self.eta.clear()
        self.cancel.setEnabled(False)

    def started(self, run_id: int) -> None:
        self.label.setText(f"Run #{run_id}")
        self.bar.setRange(0, 0)  # busy until the first progress report gives the total
        self.bar.show()
        self.spend.setText(format_spend(0.0))
        self.eta.clear()
        self.cancel.setEnabled(True)

    def update_progress(self, progress: Progress) -> None:
        """Show a run's progress."""
        self.label.setText(
            f"Run #{progress.run_id}"
            + (f" · {progress.errors} error(s)" if progress.errors else "")
        )
        self.bar.show()
        self.bar.setRange(0, max(1, int(progress.total)))
        self.bar.setValue(int(progress.done))
        self.spend.setText(format_spend(progress.spend_usd))
        self.eta.setText(format_eta(progress.eta_s))

    def finished(self, outcome: RunOutcome, spend: Spend | None = None) -> None:
        """Show how a run ended; `spend` is the whole run's (every resume), as the report has it."""
        if spend is not None:
            self.spend.setText(format_spend(spend.real_usd, spend.synthetic_calls))
        else:
            self.spend.setText(format_spend(outcome.progress.spend_usd))
        reason = f" ({outcome.reason})" if outcome.reason else ""
        self.set_idle(f"Run #{outcome.run_id} {outcome.status}{reason}")
