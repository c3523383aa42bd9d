"""The dialogue state: references against the list on screen and the product in focus, the window of
recent turns, and a JSON round trip so that any server process can continue a conversation."""

from __future__ import annotations

import json

from assistant.nlu.commands import Ref
from assistant.state import WINDOW, DialogueState, OrderContext, ShownItem
from knowledge.constraints import Bound, Constraints

SHOWN = [
    ShownItem("h1", "Sony", 299.0, "Headphones"),
    ShownItem("h2", "Bose", 149.0, "Headphones"),
    ShownItem("h3", "Anker", 39.0, "Headphones"),
]


def listed(items: list[ShownItem] = SHOWN) -> DialogueState:
    s = DialogueState()
    s.remember_shown(items)
    return s


def test_references_resolve_against_the_last_list() -> None:
    s = listed()
    assert (
        s.resolve(Ref(index=1)) == "h2"
        and s.resolve(Ref(index=-1)) == "h3"
        and s.resolve(Ref(index=7)) is None
    )
    assert s.resolve(Ref(brand="bose")) == "h2" and s.resolve(Ref(brand="JBL")) is None
    assert (
        s.resolve(Ref(extreme=("price", "min"))) == "h3" and s.resolve(Ref(extreme=("price", "max"))) == "h1"
    )
    assert s.resolve(Ref(product="P0241")) == "P0241"  # a named product needs no list
    assert (
        s.resolve(Ref(focus=True)) is None and s.resolve(None) is None
    )  # "that one" of three, none in focus
    s.focus = "h2"
    assert s.resolve(Ref(focus=True)) == "h2" and s.resolve(None) == "h2"


def test_the_focus_follows_a_single_product_and_the_other_one_of_two() -> None:
    s = listed(SHOWN[:1])
    assert s.focus == "h1" and s.resolve(Ref(focus=True)) == "h1"
    two = listed(SHOWN[:2])
    assert two.focus is None and two.resolve(Ref(other=True)) == "h1"  # no focus: the other of the first
    two.focus = "h1"
    assert two.resolve(Ref(other=True)) == "h2"
    assert listed().resolve(Ref(other=True)) is None  # "the other one" of three names nothing
    two.remember_shown(SHOWN)
    assert two.focus is None and two.shown_ids == ["h1", "h2", "h3"]  # a new list ends the old focus


def test_only_recent_turns_count_towards_the_mood() -> None:
    s = DialogueState()
    for i in range(WINDOW + 3):
        s.note_turn(-0.5 if i < 3 else 0.5, complaint=i < 3)
    assert s.turns == WINDOW + 3 and len(s.sentiment) == len(s.complaints) == WINDOW
    assert not any(s.complaints) and min(s.sentiment) == 0.5


def test_json_round_trip() -> None:
    s = listed()
    s.topic = Constraints(
        categories=("Headphones",),
        exclude_brands=("Apple",),
        price=Bound(None, 200.0),
        currency="USD",
        attributes={"connectivity": ("wireless",)},
        bounds={"weight_g": Bound(None, 250)},
    )
    s.focus, s.pending, s.last_action, s.last_topic, s.asked_kind = (
        "h2",
        "OrderStatus",
        "policy_qa",
        "returns",
        True,
    )
    s.order = OrderContext("ORD-104233", "a@b.co", at=12.5, client_id="c1")
    s.note_turn(-0.3, complaint=True)
    restored = DialogueState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert restored == s
    assert restored.resolve(Ref(extreme=("price", "min"))) == "h3"
