"""The offline demo's answers to tool-using and structured-output prompts, per tier.

Deterministic rules that read the question the way each tier would: Sonnet and Opus call every
tool the question needs and classify carefully; Haiku calls only the first tool it thinks of and
takes the first keyword it sees, so it misses some of the sample's tool and JSON expectations.
"""

from __future__ import annotations

import json
import re
from typing import Any

ORDER_ID = re.compile(r"\bQC-\d{4}\b")
DOCS_WORDS = ("how", "can i", "can you", "refund", "export", "add ", "where do")
# Checked in this order by Sonnet and Opus; Haiku checks "how-to" first (a question beginning
# with "How" is a how-to to it, whatever it is about).
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("billing", ("billed", "charged", "refund", "payment", "invoice")),
    ("bug", ("freezes", "crash", "error", "cannot", "broken")),
    ("account", ("email", "password", "account", "sign in", "login")),
    ("how-to", ("how", "can i", "let ")),
    ("feedback", ("love", "thanks", "great", "suggest")),
)
URGENT_WORDS = ("cannot", "twice", "freezes", "urgent")


def _tool_names(request_tools: list[dict[str, Any]] | None) -> set[str]:
    return {str(tool.get("name")) for tool in request_tools or []}


def demo_tool_calls(
    tools: list[dict[str, Any]] | None, question: str, tier: str
) -> list[dict[str, Any]] | None:
    """The tool_use blocks `tier` answers with, or None when it answers in text."""
    names = _tool_names(tools)
    if not names:
        return None
    lowered = question.lower()
    orders = ORDER_ID.findall(question)
    wants_docs = any(word in lowered for word in DOCS_WORDS)
    calls: list[tuple[str, dict[str, Any]]] = []
    if tier == "haiku":
        # One tool, the first that comes to mind: docs words win over an order id.
        if wants_docs and "search_docs" in names:
            calls.append(("search_docs", {"query": question[:80]}))
        elif orders and "lookup_order" in names:
            calls.append(("lookup_order", {"order_id": orders[0]}))
    else:
        if "lookup_order" in names:
            calls.extend(("lookup_order", {"order_id": order}) for order in orders)
        if wants_docs and "search_docs" in names and (not orders or "how" in lowered):
            calls.append(("search_docs", {"query": question[:80], "limit": 3}))
    if not calls:
        return None
    return [
        {"id": f"toolu_demo_{index:02d}", "name": name, "input": arguments}
        for index, (name, arguments) in enumerate(calls, start=1)
    ]


def demo_classification(question: str, tier: str) -> str:
    """A JSON answer for a ticket-classifying output schema (category, priority, summary)."""
    lowered = question.lower()
    order = CATEGORY_WORDS
    if tier == "haiku":
        order = (CATEGORY_WORDS[3], *CATEGORY_WORDS[:3], CATEGORY_WORDS[4])
    category = next(
        (name for name, words in order if any(word in lowered for word in words)), "how-to"
    )
    priority = "urgent" if any(word in lowered for word in URGENT_WORDS) else "normal"
    if category == "feedback":
        priority = "low"
    ticket = question.strip().split("\n\n")[-1]  # the ticket itself, after the instruction
    summary = " ".join(ticket.split())[:100] or "Empty ticket"
    return json.dumps({"category": category, "priority": priority, "summary": summary})
