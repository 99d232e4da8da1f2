"""The one money format of the views: "$0" for nothing, enough digits for a cheap call."""

from __future__ import annotations


def usd(value: float | None, *, unknown: str = "unknown") -> str:
    """Dollars: ``$0``, ``$0.000042``, ``$0.0132``, ``$12.50``, ``$1,234.00``; `unknown` for None."""
    if value is None:
        return unknown
    if value == 0:
        return "$0"
    if abs(value) < 0.0001:
        return f"${value:.6f}"
    if abs(value) < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"
