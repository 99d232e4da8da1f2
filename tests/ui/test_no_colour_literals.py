"""Colours come from workbench/ui/theme.py only: no colour literal anywhere else in workbench/ui."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "workbench" / "ui"
THEME = UI / "theme.py"
# Colour literals: "#rgb".."#rrggbbaa", rgb()/rgba(), QColor built from a string or numbers,
# named Qt colours other than transparent, and pyqtgraph's one-letter colour names.
LITERAL = re.compile(
    r"""#[0-9a-fA-F]{3,8}\b(?=["';\s}])"""
    r"""|\brgba?\("""
    r"""|QColor\(\s*["'\d]"""
    r"""|GlobalColor\.(?!transparent)\w+"""
    r"""|mk(?:Pen|Brush)\(\s*["']"""
    r"""|\b(?:color|background)\s*:\s*(?:white|black|red|green|blue|gray|grey|yellow)\b"""
)
NOT_YET_THEMED: set[str] = set()  # every file of workbench/ui takes its colours from the theme


def _literals(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if LITERAL.search(line):
            found.append(f"{path.relative_to(UI).as_posix()}:{number}: {line.strip()}")
    return found


def test_no_colour_literal_outside_the_theme() -> None:
    offenders = [
        hit
        for path in sorted(UI.rglob("*.py"))
        if path != THEME and path.relative_to(UI).as_posix() not in NOT_YET_THEMED
        for hit in _literals(path)
    ]
    assert not offenders, "use workbench.ui.theme instead:\n" + "\n".join(offenders)


def test_the_allow_list_names_only_existing_files() -> None:
    # Entries for files that hold no literal today stay until the other branch is merged (it
    # may add some); a renamed or deleted file must leave the list.
    assert not [name for name in NOT_YET_THEMED if not (UI / name).is_file()]


def test_the_pattern_finds_each_kind_of_literal() -> None:
    for sample in (
        'label.setStyleSheet("color: #a2191f;")',
        'QColor("#fff")',
        "QColor(12, 34, 56)",
        'pg.mkPen("w")',
        "painter.setPen(Qt.GlobalColor.red)",
        '"background: rgb(1, 2, 3)"',
        '"color: white;"',
    ):
        assert LITERAL.search(sample), sample
    for sample in ("QColor(colour)", "image.fill(Qt.GlobalColor.transparent)", "# 80 % bar"):
        assert not LITERAL.search(sample), sample
