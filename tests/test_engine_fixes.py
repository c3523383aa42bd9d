"""Regressions the offline evaluation suite found in the engine (issue 8 findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.engine import Assistant
from assistant.fakes import demo_assistant
from assistant.generate.facts import build_facts
from assistant.generate.grounding import Grounder
from assistant.tools import ToolContext, call_tool


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return demo_assistant(f"sqlite:///{Path(tmp_path_factory.mktemp('fix')) / 'f.db'}")


def test_grounding_accepts_owned_product_mention_without_crash(bot: Assistant) -> None:
    # An owned product (a signal, not a card) named next to its price used to raise KeyError.
    prods = list(bot.shop.products.values())
    owned, shown = prods[0], prods[1]
    res = call_tool("product_details", ToolContext(bot.shop), product_id=shown.id)
    facts = build_facts("product_details", "q", res, bot.shop, context_ids={owned.id})
    g = Grounder(prods)
    ok = g.check(f"You bought the {owned.title} for ${owned.price:.2f}.", facts)
    assert ok.ok, ok
    bad = g.check(f"You bought the {owned.title} for ${owned.price + 13:.2f}.", facts)
    assert bad.wrong_prices
