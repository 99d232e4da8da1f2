"""What a scored grid cell says: its first line, its hover text, k/n over repeats and the
flakiness mark, and whether it differs from the first column."""

from __future__ import annotations

from workbench.services.run_grid_cells import (
    FLAKY_MARK,
    GridCell,
    cell_tooltip,
    differs_from,
    pass_count,
    repeats_line,
)
from workbench.storage.labels_repo import ScoreRow

OK = ScoreRow(0, "contains", True, 1.0, "expectation 1 (contains 'a'): the output contains 'a'")
BAD = ScoreRow(1, "regex", False, 0.0, "expectation 2 (regex '\\d'): no match for '\\d'")
IGNORED = ScoreRow(2, "equals", False, 0.0, "expectation 3 (equals): differs", weight=0.0)


def _cell(repeat: int, output: str, *verdict: ScoreRow) -> GridCell:
    cell = GridCell(repeat + 1, "done", repeat=repeat, output=output)
    cell.verdict = verdict or None
    return cell


def test_a_failing_cell_names_its_failing_expectations() -> None:
    cell = _cell(0, "a", OK, BAD, IGNORED)
    assert cell.passed is False
    assert cell.display().startswith("✗ regex · ")
    tip = cell_tooltip(cell, [cell])
    assert "✗ fails:\n• expectation 2 (regex '\\d'): no match" in tip
    assert "expectation 3" not in tip  # weight 0 does not decide the case
    passing = _cell(0, "a", OK, IGNORED)
    assert passing.passed is True and passing.display().startswith("✓ pass · ")
    assert _cell(0, "a").passed is None and not _cell(0, "a").display().startswith(("✓", "✗"))


def test_repeats_count_k_of_n_and_say_when_they_disagree() -> None:
    agree = [_cell(i, "a", OK) for i in range(3)]
    assert pass_count(agree) == (3, 3) and repeats_line(agree) == "3/3 repeats pass"
    mixed = [_cell(0, "a", OK), _cell(1, "b", BAD), _cell(2, "a", OK)]
    assert repeats_line(mixed) == f"2/3 repeats pass · {FLAKY_MARK}"
    tip = cell_tooltip(mixed[0], mixed)
    assert "#1: ✓ passes all 1 expectation(s)" in tip and "#2: ✗ fails:" in tip
    unscored = [_cell(0, "a"), GridCell(9, "pending", repeat=1)]
    assert repeats_line(unscored) == "1/2 repeats done"
    assert repeats_line([_cell(0, "a", OK)]) == ""


def test_differs_from_the_first_column_ignores_whitespace() -> None:
    first = _cell(0, "one  two\n")
    assert not differs_from(_cell(0, "one two"), first)
    assert differs_from(_cell(0, "one three"), first)
    assert not differs_from(first, first)
    assert not differs_from(GridCell(5, "streaming", output="x"), first)
