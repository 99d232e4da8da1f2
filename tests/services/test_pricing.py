"""Golden tests for the billing rules, the effective-date lookup and the shipped price table."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import PriceRow
from workbench.resources import resource_path
from workbench.services.model_list import load_default_models
from workbench.services.pricing import (
    PriceTable,
    Usage,
    compute_cost,
    is_long_context,
    load_default_prices,
    load_prices,
)

JAN = dt.date(2026, 1, 1)
JUN = dt.date(2026, 6, 1)

# Round numbers shaped like a Sonnet 4.5 row, so every golden value can be checked by hand.
ROW = PriceRow(
    model="test-model",
    effective_from=JAN,
    input=3.0,
    output=15.0,
    cache_write_5m=3.75,
    cache_write_1h=6.0,
    cache_read=0.30,
    batch_discount=0.5,
    long_context_threshold=200_000,
    long_context_input=6.0,
    long_context_output=22.5,
    source="test",
)


def cost(usage: Usage, row: PriceRow = ROW, **kwargs: object) -> Decimal:
    return compute_cost(usage, row, **kwargs)  # type: ignore[arg-type]


# --- each token kind ---------------------------------------------------------------------------


def test_input_tokens_cost_the_input_rate() -> None:
    assert cost(Usage(input_tokens=1_000)) == Decimal("0.003")


def test_output_tokens_cost_the_output_rate() -> None:
    assert cost(Usage(output_tokens=1_000)) == Decimal("0.015")


def test_cache_writes_cost_the_5m_rate_by_default() -> None:
    assert cost(Usage(cache_creation_input_tokens=1_000)) == Decimal("0.00375")


def test_cache_writes_cost_the_1h_rate_when_asked() -> None:
    assert cost(Usage(cache_creation_input_tokens=1_000), cache_ttl="1h") == Decimal("0.006")


def test_cache_reads_cost_the_cache_read_rate() -> None:
    assert cost(Usage(cache_read_input_tokens=1_000)) == Decimal("0.0003")


def test_all_token_kinds_add_up() -> None:
    usage = Usage(1_000, 1_000, 1_000, 1_000)
    assert cost(usage) == Decimal("0.003") + Decimal("0.015") + Decimal("0.00375") + Decimal(
        "0.0003"
    )


def test_api_cache_creation_breakdown_prices_each_ttl_at_its_rate() -> None:
    # The SDK's usage object: 600 tokens written for 5 minutes, 400 for an hour.
    usage = SimpleNamespace(
        input_tokens=0,
        output_tokens=0,
        cache_creation_input_tokens=1_000,
        cache_read_input_tokens=None,
        cache_creation=SimpleNamespace(
            ephemeral_5m_input_tokens=600, ephemeral_1h_input_tokens=400
        ),
    )
    expected = Decimal("0.00225") + Decimal("0.0024")
    assert compute_cost(usage, ROW) == expected
    assert compute_cost(usage, ROW, cache_ttl="1h") == expected  # the breakdown wins


def test_missing_and_null_counts_are_zero() -> None:
    usage = SimpleNamespace(
        input_tokens=10,
        output_tokens=None,
        cache_creation_input_tokens=None,
        cache_read_input_tokens=None,
    )
    assert compute_cost(usage, ROW) == Decimal("0.00003")


def test_unknown_cache_ttl_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cache_ttl"):
        cost(Usage(1), cache_ttl="10m")


def test_negative_token_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Usage(input_tokens=-1)


# --- batch discount ----------------------------------------------------------------------------


def test_batch_takes_the_discount_off_every_token_kind() -> None:
    usage = Usage(1_000, 1_000, 1_000, 1_000)
    assert cost(usage, batch=True) == cost(usage) / 2


def test_batch_discount_comes_from_the_row() -> None:
    row = ROW.model_copy(update={"batch_discount": 0.25})
    assert cost(Usage(output_tokens=1_000), row, batch=True) == Decimal("0.01125")


# --- long context ------------------------------------------------------------------------------


def test_prompt_exactly_at_the_threshold_uses_standard_rates() -> None:
    usage = Usage(input_tokens=200_000, output_tokens=1_000)
    assert not is_long_context(usage, ROW)
    assert cost(usage) == Decimal("0.6") + Decimal("0.015")


def test_prompt_one_over_the_threshold_bills_every_token_at_long_rates() -> None:
    usage = Usage(input_tokens=200_001, output_tokens=1_000)
    assert is_long_context(usage, ROW)
    assert cost(usage) == Decimal("1.200006") + Decimal("0.0225")


def test_cache_tokens_count_towards_the_threshold_and_scale_with_input() -> None:
    # 100,000 input + 50,000 written + 50,001 read = 200,001 > 200,000: long rates, cache x2.
    usage = Usage(
        input_tokens=100_000, cache_creation_input_tokens=50_000, cache_read_input_tokens=50_001
    )
    expected = Decimal("0.6") + Decimal("0.375") + Decimal("0.0300006")
    assert cost(usage) == expected
    assert cost(usage, cache_ttl="1h") == Decimal("0.6") + Decimal("0.6") + Decimal("0.0300006")


def test_long_context_and_batch_stack() -> None:
    usage = Usage(input_tokens=300_000)
    assert cost(usage, batch=True) == Decimal("0.9")


def test_a_row_without_a_threshold_never_uses_long_rates() -> None:
    row = ROW.model_copy(update={"long_context_threshold": None})
    assert cost(Usage(input_tokens=1_000_000), row) == Decimal("3")


# --- effective dates and lookups ---------------------------------------------------------------


@pytest.fixture
def table() -> PriceTable:
    cheaper = ROW.model_copy(update={"effective_from": JUN, "input": 2.0})
    return PriceTable([cheaper, ROW])  # out of order on purpose


def test_a_date_before_the_first_row_has_no_price(table: PriceTable) -> None:
    assert table.lookup("test-model", dt.date(2025, 12, 31)) is None
    assert table.cost_for("test-model", Usage(1_000), dt.date(2025, 12, 31)) is None


def test_the_first_row_applies_on_its_day(table: PriceTable) -> None:
    assert table.lookup("test-model", JAN) == ROW


def test_between_rows_the_earlier_row_applies(table: PriceTable) -> None:
    row = table.lookup("test-model", dt.date(2026, 5, 31))
    assert row is not None and row.input == 3.0


def test_a_new_row_applies_from_its_day_on(table: PriceTable) -> None:
    for day in (JUN, dt.date(2030, 1, 1)):
        row = table.lookup("test-model", day)
        assert row is not None and row.input == 2.0


def test_datetimes_are_priced_by_their_utc_date(table: PriceTable) -> None:
    evening_before_in_new_york = dt.datetime(
        2026, 5, 31, 23, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5))
    )
    row = table.lookup("test-model", evening_before_in_new_york)
    assert row is not None and row.effective_from == JUN
    naive = table.lookup("test-model", dt.datetime(2026, 5, 31, 23, 30))
    assert naive is not None and naive.effective_from == JAN


def test_an_unknown_model_costs_unknown_not_zero(table: PriceTable) -> None:
    assert table.lookup("no-such-model", JUN) is None
    assert table.cost_for("no-such-model", Usage(1_000, 1_000), JUN) is None


def test_zero_usage_of_a_known_model_costs_zero(table: PriceTable) -> None:
    assert table.cost_for("test-model", Usage(), JUN) == 0.0


def test_a_dated_snapshot_id_uses_its_alias_row(table: PriceTable) -> None:
    assert table.lookup("test-model-20260301", dt.date(2026, 3, 1)) == ROW


def test_cost_for_returns_a_float(table: PriceTable) -> None:
    assert table.cost_for("test-model", Usage(output_tokens=1_000), JAN) == pytest.approx(0.015)


def test_estimate_cost_prices_input_and_expected_output(table: PriceTable) -> None:
    assert table.estimate_cost("test-model", 1_000, 1_000, JAN) == pytest.approx(0.018)
    assert table.estimate_cost("test-model", 1_000, 0) is not None  # today
    assert table.estimate_cost("no-such-model", 1_000, 1_000, JAN) is None


def test_two_rows_for_the_same_model_and_day_are_refused() -> None:
    with pytest.raises(BadInput, match="two prices"):
        PriceTable([ROW, ROW.model_copy()])


def test_a_threshold_without_long_rates_is_refused() -> None:
    with pytest.raises(BadInput, match="long-context rates"):
        PriceTable([ROW.model_copy(update={"long_context_input": None})])


@given(
    st.integers(0, 2_000_000),
    st.integers(0, 200_000),
    st.integers(0, 500_000),
    st.integers(0, 500_000),
)
def test_batch_is_exactly_half_and_cost_is_never_negative(
    inp: int, out: int, written: int, read: int
) -> None:
    usage = Usage(inp, out, written, read)
    full = cost(usage)
    assert full >= 0
    assert cost(usage, batch=True) * 2 == full


# --- price files -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ROW = """\
prices:
  - model: m
    effective_from: 2026-01-01
    input: 1
    output: 2
    cache_write_5m: 1.25
    cache_write_1h: 2
    cache_read: 0.1
"""


def test_a_price_file_loads_into_rows(tmp_path: Path) -> None:
    (row,) = load_prices(write(tmp_path, GOOD_ROW))
    assert row.model == "m" and row.effective_from == JAN and row.batch_discount == 0.5


def test_a_bad_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ROW.replace("output: 2", "output: -2"))
    with pytest.raises(BadInput) as info:
        load_prices(path)
    assert info.value.line == 5
    assert info.value.field == "prices[0].output"
    assert str(path) in info.value.user_message


def test_a_misspelt_field_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        load_prices(write(tmp_path, GOOD_ROW + "    cache_reed: 0.1\n"))
    assert info.value.field == "prices[0].cache_reed" and info.value.line == 9
    assert "unknown field" in info.value.user_message


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        load_prices(write(tmp_path, GOOD_ROW + "  - model: [unclosed\n"))
    assert info.value.line is not None and info.value.line >= 10


def test_a_file_without_a_prices_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="'prices:'"):
        load_prices(write(tmp_path, "- model: m\n"))


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot read"):
        load_prices(tmp_path / "absent.yaml")


# --- the shipped table -------------------------------------------------------------------------

NOV = dt.date(2026, 11, 15)


@pytest.fixture(scope="module")
def defaults() -> PriceTable:
    return PriceTable(load_default_prices())


def test_every_default_model_has_a_price(defaults: PriceTable) -> None:
    missing = [m.id for m in load_default_models() if defaults.lookup(m.id, NOV) is None]
    assert missing == []


def test_every_default_row_cites_a_source() -> None:
    assert all(row.source.startswith("https://") for row in load_default_prices())


def test_current_models_match_the_docs(defaults: PriceTable) -> None:
    million = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert defaults.cost_for("claude-opus-5-5", million, NOV) == pytest.approx(24.0)
    assert defaults.cost_for("claude-sonnet-5-5", million, NOV) == pytest.approx(12.0)
    assert defaults.cost_for("claude-fable-5-1", million, NOV) == pytest.approx(60.0)
    assert defaults.cost_for("claude-haiku-5-5", Usage(100_000, 1_000), NOV) == pytest.approx(
        0.0105
    )


def test_haiku_5_5_prompts_over_100k_bill_at_five_times(defaults: PriceTable) -> None:
    usage = Usage(input_tokens=100_001, cache_creation_input_tokens=1_000)
    # Docs: $0.50 input and $0.625 5m cache writes for prompts over 100,000 tokens.
    assert defaults.cost_for("claude-haiku-5-5", usage, NOV) == pytest.approx(0.0500005 + 0.000625)


def test_sonnet_5_5_cache_reads_got_cheaper_on_7_october(defaults: PriceTable) -> None:
    reads = Usage(cache_read_input_tokens=1_000_000)
    assert defaults.cost_for("claude-sonnet-5-5", reads, dt.date(2026, 10, 6)) == pytest.approx(0.2)
    assert defaults.cost_for("claude-sonnet-5-5", reads, dt.date(2026, 10, 7)) == pytest.approx(0.1)


def test_sonnet_4_5_snapshot_id_uses_the_long_context_tier(defaults: PriceTable) -> None:
    usage = Usage(input_tokens=300_000, output_tokens=1_000_000)
    assert defaults.cost_for("claude-sonnet-4-5-20250929", usage, NOV) == pytest.approx(1.8 + 22.5)


def test_default_rows_are_fresh_copies() -> None:
    load_default_prices()[0].input = 999.0
    assert load_default_prices()[0].input != 999.0


# --- resources -----------------------------------------------------------------------------------


def test_resource_path_finds_the_shipped_files() -> None:
    assert resource_path("prices.yaml").is_file()
    assert resource_path("models.yaml").is_file()


def test_resource_path_refuses_paths_outside_the_folder() -> None:
    for name in ("../core/models.py", "/etc/passwd", ""):
        with pytest.raises(ValueError):
            resource_path(name)


def test_a_missing_resource_is_a_clear_error() -> None:
    with pytest.raises(NotFound, match="Reinstall"):
        resource_path("no-such-file.yaml")


def test_a_frozen_build_reads_resources_from_meipass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "workbench" / "resources" / "bundled-only.yaml"
    bundled.parent.mkdir(parents=True)
    bundled.write_text("x: 1\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("bundled-only.yaml") == bundled
