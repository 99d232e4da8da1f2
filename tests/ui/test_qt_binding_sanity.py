"""Guards against a broken Qt binding: PySide6 6.12.0 on CPython 3.11 drops a reference to None
or True on every call that returns one and aborts the interpreter after enough calls. Run in a
subprocess so a regression fails this test instead of killing the whole session."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
none, true = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(20000):
    label.setText("x")
    label.setVisible(False)
print("DELTA", sys.getrefcount(None) - none, sys.getrefcount(True) - true)
"""


def test_void_calls_do_not_leak_references_to_none_or_true() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    _, none_delta, true_delta = result.stdout.split()
    assert abs(int(none_delta)) < 100 and abs(int(true_delta)) < 100, result.stdout
