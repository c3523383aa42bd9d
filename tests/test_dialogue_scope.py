"""Topic scoping and relaxation: which constraints a product request searches with."""

from __future__ import annotations

from assistant.nlu.commands import FindProducts, Refine
from assistant.scope import scope_find, scope_refine
from assistant.state import DialogueState, ShownItem
from knowledge.constraints import Bound, Constraints

TOPIC = Constraints(
    categories=("Headphones",), brands=("Sony",), price=Bound(None, 100.0), attributes={"colour": ("black",)}
)


def _count(allowed: set[str]) -> object:
    """Matches only when the constraints' brands (or none) are allowed."""
    return lambda c: 0 if c.brands and not set(c.brands) <= allowed else 3


def test_a_new_product_type_starts_a_fresh_topic() -> None:
    s = scope_find(
        FindProducts("speakers", Constraints(categories=("Speakers",))),
        DialogueState(topic=TOPIC),
        _count({"Sony"}),
    )
    assert s.fresh and s.constraints == Constraints(categories=("Speakers",))


def test_continuation_keeps_what_still_applies() -> None:
    cmd = FindProducts("speakers instead, same budget", Constraints(categories=("Speakers",)), carry=True)
    s = scope_find(cmd, DialogueState(topic=TOPIC), _count({"Sony"}))
    assert s.constraints.price == Bound(None, 100.0) and s.constraints.brands == ("Sony",)
    assert "attributes" not in s.carried and not s.constraints.attributes  # colour belonged to headphones
    assert "price" in s.carried


def test_same_type_refines_in_place_and_reports_what_it_carried() -> None:
    s = scope_find(
        FindProducts("headphones under 80", Constraints(categories=("Headphones",), price=Bound(None, 80.0))),
        DialogueState(topic=TOPIC),
        _count({"Sony"}),
    )
    assert s.constraints.price == Bound(None, 80.0) and s.constraints.brands == ("Sony",)
    assert set(s.carried) == {"brands", "attributes"}


def test_a_brand_the_list_cannot_have_relaxes_carried_slots_not_the_shoppers_words() -> None:
    def count(c: Constraints) -> int:
        return 2 if c.brands == ("Marshall",) and not c.categories else 0

    s = scope_refine(
        Refine("anything from marshall?", Constraints(brands=("Marshall",))),
        DialogueState(topic=TOPIC),
        count,
        lambda pid, a: None,
    )
    assert s.constraints.brands == ("Marshall",) and not s.constraints.categories
    assert "categories" in s.relaxed and "price" in s.relaxed


def test_nothing_is_relaxed_when_the_shoppers_own_words_match_nothing() -> None:
    s = scope_refine(
        Refine("only acme", Constraints(brands=("Acme",))),
        DialogueState(topic=TOPIC),
        lambda c: 0,
        lambda pid, a: None,
    )
    assert s.constraints.brands == ("Acme",) and s.relaxed == ()


def test_dropping_and_rejecting() -> None:
    state = DialogueState(topic=TOPIC)
    state.remember_shown([ShownItem("P1"), ShownItem("P2")])
    s = scope_refine(
        Refine("any price, none of these", unset=("price",), reject_shown=True),
        state,
        _count({"Sony"}),
        lambda pid, a: None,
    )
    assert s.constraints.price == Bound() and set(s.constraints.exclude_ids) == {"P1", "P2"}
