"""The LLM command path: its JSON becomes the same spans the fast parser gives, and the real llama.cpp
path (grammar-constrained, SmolLM2 from the test package) returns valid commands or nothing."""

from __future__ import annotations

import json

import pytest

from assistant.nlu.commands import COMMAND_TYPES, FindProducts, OrderStatus, Rank
from assistant.nlu.llm import messages, prompt, schema, to_parse
from assistant.nlu.read import Context, to_commands
from assistant.nlu.resolve import Resolver
from assistant.nlu.vocab import ShopVocab
from knowledge.constraints import Bound
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def r() -> Resolver:
    return Resolver(ShopVocab(load_demo().products))


def _money(v: str) -> bool:
    return not v.strip().endswith(("people", "hours", "mah", "g"))


def test_llm_json_is_read_through_the_same_resolution(r: Resolver) -> None:
    data = {
        "commands": [
            {"type": "OrderStatus", "order": "ORD-104110", "email": "a@b.com"},
            {"type": "FindProducts", "product": "tent", "min": "4 people", "max": "200 quid"},
        ]
    }
    text = "where is ORD-104110, a@b.com, and a tent for 4 people under 200 quid"
    cmds = to_commands(to_parse(text, data, _money), r, Context())
    order = next(c for c in cmds if isinstance(c, OrderStatus))
    find = next(c for c in cmds if isinstance(c, FindProducts))
    assert (order.order_id, order.email) == ("ORD-104110", "a@b.com")
    assert find.constraints.categories == ("Tents",) and find.constraints.price == Bound(None, 200.0)
    assert find.constraints.currency == "GBP" and find.constraints.bounds["capacity_people"] == Bound(
        4.0, None
    )


def test_rank_words_from_the_llm(r: Resolver) -> None:
    p = to_parse("which is lightest", {"commands": [{"type": "Rank", "rank": "lightest"}]}, _money)
    rank = to_commands(p, r, Context(("Headphones",), listed=True))[0]
    assert isinstance(rank, Rank) and (rank.attribute, rank.direction) == ("weight_g", "min")


def test_prompt_schema_and_context() -> None:
    s = schema()
    assert set(s["properties"]["commands"]["items"]["properties"]["type"]["enum"]) == set(COMMAND_TYPES)
    for ex in prompt()["examples"]:  # every worked example satisfies the schema's command types
        assert all(c["type"] in COMMAND_TYPES for c in json.loads(ex["json"])["commands"])
    msgs = messages("cheaper?", Context(listed=True))
    assert msgs[0]["role"] == "system" and "on screen" in msgs[-1]["content"]
    assert messages("cheaper?")[:-1] == msgs[:-1]  # the prefix is byte-identical: its KV cache is reused
    from assistant.nlu.corpus import CONTEXT_WORDS

    every = Context(listed=True, asked=True, order=True, policy=True)  # every word the parser is told
    assert set(every.words.split()) == set(CONTEXT_WORDS)
    assert all(prompt()["context"][w] in messages("and then?", every)[-1]["content"] for w in CONTEXT_WORDS)


def test_the_real_llama_path_returns_valid_commands_or_none(r: Resolver) -> None:
    pytest.importorskip("llama_cpp")
    from assistant.models import smollm2_path
    from assistant.nlu.llm import LlamaCommands

    llm = LlamaCommands(smollm2_path(), r, n_threads=1, max_tokens=48)
    got = llm.commands("where is my order ORD-104110?", Context())
    assert got is None or all(c.type in COMMAND_TYPES for c in got)
