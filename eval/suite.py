"""Scripted conversation suites: YAML files under ``eval/suites/`` with per-turn expectations.

A suite file::

    suite: shopping
    conversations:
      - id: shop-01
        customer_id: C0012          # optional: the logged-in demo customer
        tags: [recommend]
        turns:
          - user: "wireless headphones under $150"
            expect:
              intent: recommend      # primary intent (or a list of acceptable ones)
              intents: [a, b]        # all must be among the recognised intents (two requests)
              entities: {categories: [Headphones], price_max: 150}
              action: recommend      # the policy's action (or a list)
              tools: [recommend]     # each must be in Done.actions; tools_absent: never called
              products: {min: 1, category: Headphones, brands: [Sony], price_max: 150}
              products: {exclude_attributes: {material: [plastic]},          # no card has these values
                         bounds: {weight_g: {max: 300}},                     # numeric attribute bounds
                         in_stock: true,                                     # every card is in stock
                         relative: {attribute: price, direction: less}}      # each card below the
                                                                             # dearest card shown before
              no_products: true
              must_include: ["ORD-104233", [shipped, "on its way"]]   # inner list = any of
              must_not_include: ["password"]
              cite: {kind: policy, topic: returns}                     # or id: POL-...
              handoff: true          # expected hand-off (default false; "any" = not scored)
              about: {shown: 2}      # the reply concerns the 2nd product of the last list shown
                                     # (cards or product citations); or {id: P0001}; lists allowed;
                                     # or {extreme: {attribute: weight_g, direction: min}}: the
                                     # lightest of the products shown before this turn

Everything is checked against the demo shop's data, never against an engine's past output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
INTENTS = (
    "greeting",
    "recommend",
    "search",
    "compare",
    "product_question",
    "order_status",
    "cancel_order",
    "return_refund",
    "shipping",
    "payment",
    "privacy",
    "complaint",
    "human_agent",
    "goodbye",
    "out_of_scope",
)
TOOLS = (
    "recommend",
    "search_products",
    "product_details",
    "compare",
    "product_qa",
    "order_status",
    "cancel_order",
    "return_or_refund",
    "policy_qa",
    "handoff",
    "privacy",
)
EXPECT_KEYS = {
    "intent",
    "intents",
    "entities",
    "action",
    "tools",
    "tools_absent",
    "products",
    "no_products",
    "must_include",
    "must_not_include",
    "cite",
    "handoff",
    "about",
    "note",
}
PRODUCT_KEYS = {
    "min",
    "max",
    "category",
    "brands",
    "exclude_brands",
    "price_min",
    "price_max",
    "min_rating",
    "ids_any",
    "ids_none",
    "attributes",
    "exclude_attributes",
    "bounds",
    "in_stock",
    "relative",
}
ENTITY_KEYS = {
    "categories",
    "brands",
    "price_min",
    "price_max",
    "order_ids",
    "emails",
    "negated_brands",
    "references",
    "attributes",
}


@dataclass(frozen=True)
class Turn:
    user: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: list[Turn]
    suite: str = ""
    customer_id: str | None = None
    tags: tuple[str, ...] = ()


def _fail(where: str, msg: str) -> ConfigError:
    return ConfigError(f"{where}: {msg}")


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple) else [v]


def _check_expect(where: str, exp: dict[str, Any]) -> None:
    bad = set(exp) - EXPECT_KEYS
    if bad:
        raise _fail(where, f"unknown expectation(s) {sorted(bad)}: use {sorted(EXPECT_KEYS)}")
    for key in ("intent", "intents"):
        for name in _as_list(exp.get(key) or []):
            if name not in INTENTS:
                raise _fail(where, f"unknown intent {name!r}: use one of {', '.join(INTENTS)}")
    for key in ("tools", "tools_absent"):
        for name in _as_list(exp.get(key) or []):
            if name not in TOOLS:
                raise _fail(where, f"unknown tool {name!r}: use one of {', '.join(TOOLS)}")
    if "products" in exp and (not isinstance(exp["products"], dict) or set(exp["products"]) - PRODUCT_KEYS):
        raise _fail(where, f"'products' must be a mapping with keys from {sorted(PRODUCT_KEYS)}")
    if "entities" in exp and (not isinstance(exp["entities"], dict) or set(exp["entities"]) - ENTITY_KEYS):
        raise _fail(where, f"'entities' must be a mapping with keys from {sorted(ENTITY_KEYS)}")
    if "about" in exp and (
        not isinstance(exp["about"], dict) or set(exp["about"]) - {"shown", "id", "extreme"}
    ):
        raise _fail(
            where,
            "'about' must be {shown: N}, {id: PRODUCT_ID} (lists allowed) or "
            "{extreme: {attribute: KEY, direction: min|max}}",
        )
    extreme = (exp.get("about") or {}).get("extreme")
    if extreme is not None and (
        not isinstance(extreme, dict)
        or extreme.get("direction") not in ("min", "max")
        or not extreme.get("attribute")
    ):
        raise _fail(
            where,
            "'about.extreme' needs 'attribute' (price, rating or an attribute key) and "
            "'direction' (min or max)",
        )
    if "handoff" in exp and exp["handoff"] not in (True, False, "any"):
        raise _fail(where, "'handoff' must be true, false or \"any\"")


def parse_suite(data: dict[str, Any], name: str) -> list[Conversation]:
    """Validate one suite document and return its conversations (errors name the file and turn)."""
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise _fail(name, "a suite needs a top-level 'conversations:' list")
    suite = str(data.get("suite") or name)
    out: list[Conversation] = []
    for ci, conv in enumerate(data["conversations"]):
        where = f"{name}: conversation {conv.get('id', ci) if isinstance(conv, dict) else ci}"
        if not isinstance(conv, dict) or not conv.get("id") or not isinstance(conv.get("turns"), list):
            raise _fail(where, "each conversation needs 'id' and a 'turns' list")
        turns = []
        for ti, t in enumerate(conv["turns"]):
            tw = f"{where} turn {ti + 1}"
            if not isinstance(t, dict) or not isinstance(t.get("user"), str):
                raise _fail(tw, "each turn needs a 'user' message")
            exp = t.get("expect") or {}
            _check_expect(tw, exp)
            turns.append(Turn(t["user"], dict(exp)))
        out.append(
            Conversation(
                str(conv["id"]), turns, suite, conv.get("customer_id"), tuple(conv.get("tags") or ())
            )
        )
    return out


def available_suites(root: Path = SUITES_DIR) -> list[str]:
    return sorted(p.stem for p in root.glob("*.yaml"))


def load_suites(names: list[str] | None = None, root: Path = SUITES_DIR) -> list[Conversation]:
    """Load the named suites (file stems or paths); None = every suite except ``smoke``
    (smoke is a subset-style sanity suite for `make test`)."""
    if names is None:
        names = [n for n in available_suites(root) if n != "smoke"]
    convs: list[Conversation] = []
    for n in names:
        path = Path(n) if n.endswith((".yaml", ".yml")) else root / f"{n}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"no suite {n!r}: choose one of {', '.join(available_suites(root))} or give a .yaml path"
            )
        convs.extend(parse_suite(yaml.safe_load(path.read_text(encoding="utf-8")), path.stem))
    ids = [c.id for c in convs]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ConfigError(f"duplicate conversation ids {sorted(dup)}: make them unique across suites")
    return convs
