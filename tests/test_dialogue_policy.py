"""The policy: typed commands + typed state -> decisions. No text, no model: every rule by behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.decision import Decision
from assistant.nlu.commands import (
    AskProduct,
    CancelOrder,
    CheckStock,
    ChitChat,
    Compare,
    Complaint,
    FindProducts,
    Handoff,
    OrderStatus,
    PolicyQuestion,
    Privacy,
    ProvideDetails,
    Rank,
    Ref,
    Refine,
    Relative,
    ReturnItem,
)
from assistant.policy import TOPIC_PRIOR, decide
from assistant.state import ORDER_MEMORY_S, DialogueState, OrderContext, ShownItem
from knowledge.constraints import Bound, Constraints

HEADPHONES = Constraints(categories=("Headphones",), price=Bound(None, 100.0), currency="USD")


@dataclass
class World:
    """Counts from a fixed table; everything the policy may ask of the shop."""

    now: float = 1000.0
    client_id: str | None = "c1"
    currency: str = "USD"
    matching: dict[str, int] = field(default_factory=dict)
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    retrieved: dict[str, str] = field(default_factory=dict)  # question -> the shop's best policy topic
    asked: tuple[str, str, float] | None = None

    def count(self, c: Constraints) -> int:
        return self.matching.get("|".join(c.brands) + "/" + "|".join(c.categories), 5)

    def value_of(self, product_id: str, attribute: str) -> float | None:
        return self.values.get((product_id, attribute))

    def locate(self, ref: Ref, shown: list[str], categories: tuple[str, ...]) -> str | None:
        return None

    def suggest(self, word: str, k: int = 3) -> list[str]:
        return ["Coffee Makers", "Blenders"][:k]

    def policy_topic(self, question: str, prior: str, weight: float) -> str:
        self.asked = (question, prior, weight)
        return self.retrieved.get(question, prior)


def _state(**kw: object) -> DialogueState:
    s = DialogueState(topic=HEADPHONES)
    s.remember_shown(
        [ShownItem("P1", "Sony", 90.0), ShownItem("P2", "Bose", 60.0), ShownItem("P3", "JBL", 45.0)]
    )
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def one(commands: list, state: DialogueState | None = None, world: World | None = None) -> Decision:
    out = decide(commands, state or DialogueState(), world or World())
    return out[0]


def test_a_request_for_a_person_wins_over_everything() -> None:
    d = one([FindProducts("x", HEADPHONES), Handoff("talk to a human")])
    assert d.action == "handoff"


def test_sustained_frustration_hands_off_once() -> None:
    angry = DialogueState(sentiment=[-0.9, -0.9, -0.9], complaints=[True, True, False])
    assert one([Complaint("useless")], angry).action == "handoff"
    assert one([Complaint("useless")], DialogueState()).action == "complaint"
    done = DialogueState(sentiment=[-0.9, -0.9, -0.9], complaints=[True, True, False], handed_off=True)
    assert one([Complaint("useless")], done).action == "complaint"


def test_an_order_question_without_details_waits_for_them() -> None:
    d = one([OrderStatus("where is my order")])
    assert d.action == "order_status" and d.pending == "OrderStatus"
    later = DialogueState(pending="OrderStatus", order=OrderContext("ORD-1"))
    d2 = one([ProvideDetails("a@b.com", email="a@b.com")], later)
    assert (
        d2.action == "order_status"
        and d2.args == {"order_id": "ORD-1", "email": "a@b.com"}
        and d2.pending is None
    )


def test_a_remembered_email_needs_the_same_client_and_a_recent_turn() -> None:
    known = DialogueState(order=OrderContext("ORD-1", "a@b.com", at=1000.0, client_id="c1"))
    assert one([OrderStatus("where is it now")], known).args["email"] == "a@b.com"
    assert one([OrderStatus("where is it now")], known, World(client_id="other")).args["email"] is None
    late = World(now=1000.0 + ORDER_MEMORY_S + 1)
    assert one([OrderStatus("where is it now")], known, late).args["email"] is None


def test_support_commands_route_to_their_tools() -> None:
    assert one([PolicyQuestion("do you price match", topic="price_match")]).args["topic"] == "price_match"
    assert one([Privacy("export my data", kind="export")]).args == {
        "request": "export",
        "question": "export my data",
    }
    assert one([ChitChat("hi", kind="greeting")]).action == "greeting"
    assert one([ChitChat("thanks", kind="thanks")]).action == "thanks"


def test_the_shops_policy_texts_can_overrule_an_unsure_reader_topic() -> None:
    w = World(retrieved={"is sales tax included?": "payment"})
    d = one([PolicyQuestion("is sales tax included?", topic="shipping", confidence=0.6)], world=w)
    assert d.args["topic"] == "payment" and d.served_intent == "payment"
    assert w.asked == ("is sales tax included?", "shipping", pytest.approx(TOPIC_PRIOR * 0.6))


def test_a_policy_follow_up_continues_the_topic_just_quoted() -> None:
    w = World(retrieved={"how long will that take?": "refunds"})
    after = DialogueState(last_action="privacy", last_topic="privacy")
    d = one([PolicyQuestion("how long will that take?", confidence=0.9)], after, w)
    assert d.args["topic"] == "privacy" and w.asked is None  # the context decides, not the words
    fresh = World()
    one([PolicyQuestion("what about ebay?", confidence=0.9)], DialogueState(), fresh)
    assert fresh.asked is not None and fresh.asked[1:] == ("other", 0.0)  # no prior: retrieval alone


def test_two_requests_give_two_decisions_support_first() -> None:
    out = decide(
        [
            FindProducts("mats", Constraints(categories=("Yoga Mats",))),
            OrderStatus("where", "ORD-1", "a@b.com"),
        ],
        DialogueState(),
        World(),
    )
    assert [d.action for d in out] == ["order_status", "recommend"]


def test_a_return_or_cancellation_serves_the_status_request_beside_it() -> None:
    out = decide(
        [OrderStatus("where is it", "ORD-1", "a@b.com"), ReturnItem("return it", "ORD-1", "a@b.com")],
        DialogueState(),
        World(),
    )
    assert [d.action for d in out] == ["return_or_refund"]
    other = decide(
        [OrderStatus("where is ORD-2", "ORD-2", "a@b.com"), CancelOrder("cancel ORD-1", "ORD-1", "a@b.com")],
        DialogueState(),
        World(),
    )
    assert sorted(d.action for d in other) == ["cancel_order", "order_status"]


def test_products_on_screen() -> None:
    s = _state()
    assert one([Compare("compare 1 and 3", (Ref(index=0), Ref(index=2)))], s).args == {
        "product_ids": ["P1", "P3"]
    }
    assert one([Compare("compare them")], s).args["product_ids"] == ["P1", "P2", "P3"]
    rank = one([Rank("lightest?", "weight_g", "min", words="lightest")], s)
    assert rank.action == "rank" and rank.args["product_ids"] == ["P1", "P2", "P3"]
    assert one([CheckStock("is the bose one in stock", Ref(brand="Bose"))], s).args == {"product_id": "P2"}
    assert one([AskProduct("how much is it", Ref(index=-1), aspect="price")], s).action == "product_details"
    assert (
        one([AskProduct("is it comfy", Ref(focus=True))], s).action == "clarify"
    )  # three shown, none in focus
    assert one([Rank("which is lightest", "weight_g", "min")], DialogueState()).action == "clarify"


def test_unresolved_ranking_words_compare_the_list() -> None:
    assert one([Rank("which is comfiest", None, words="comfiest")], _state()).action == "compare"


def test_a_vague_request_is_asked_about_once() -> None:
    d = one([FindProducts("a gift for my dad")])
    assert d.action == "clarify" and d.clarify == "kind"
    assert one([FindProducts("a gift for my dad")], DialogueState(asked_kind=True)).action == "recommend"


def test_a_product_type_the_shop_lacks_gets_real_options() -> None:
    d = one([FindProducts("a kettle", Constraints(), unknown=("kettle",))])
    assert d.action == "clarify" and d.clarify == "not_carried" and d.options == ("Coffee Makers", "Blenders")


def test_a_budget_in_another_currency_is_not_applied_and_said_so() -> None:
    cmd = FindProducts(
        "speakers under 1500 rupees",
        Constraints(categories=("Speakers",), price=Bound(None, 1500.0), currency="INR"),
    )
    d = one([cmd])
    assert d.args["constraints"].price == Bound() and ("currency", "INR:1500:USD") in d.notes


def test_cheaper_means_cheaper_than_the_product_on_top() -> None:
    w = World(values={("P1", "price"): 90.0})
    d = one([Refine("cheaper", relative=(Relative("price", "less"),))], _state(), w)
    assert d.args["constraints"].price.max == pytest.approx(89.99) and d.args["constraints"].categories == (
        "Headphones",
    )


def test_rejecting_the_list_excludes_it_and_asks_one_question() -> None:
    d = one([Refine("none of these", reject_shown=True)], _state())
    assert set(d.args["constraints"].exclude_ids) == {"P1", "P2", "P3"} and d.follow_up == "brand_or_feature"


def test_every_support_answer_leaves_the_policy_it_rests_on_for_follow_ups() -> None:
    from assistant.execute import support_topic

    assert support_topic(Decision("order_status")) == "order_tracking"
    assert support_topic(Decision("cancel_order")) == "cancellations"
    assert support_topic(Decision("policy_qa", {"topic": "payment"})) == "payment"
    assert support_topic(Decision("recommend")) is None  # a product turn ends the support matter


def test_details_written_beside_an_order_request_are_its_details_not_a_second_request() -> None:
    out = decide(
        [
            ReturnItem("i want a refund for ORD-1, a@b.com", "ORD-1", "a@b.com"),
            ProvideDetails("ORD-1, a@b.com", "ORD-1", "a@b.com"),
        ],
        DialogueState(),
        World(),
    )
    assert [d.action for d in out] == ["return_or_refund"]


def test_a_question_about_it_with_a_list_on_screen_answers_for_the_list() -> None:
    d = one([AskProduct("is it waterproof?", Ref(focus=True), "waterproof")], _state())
    assert d.action == "compare" and d.args == {
        "product_ids": ["P1", "P2", "P3"],
        "attributes": ["waterproof"],
    }
    assert one([AskProduct("is it any good?", Ref(focus=True), None)], _state()).action == "clarify"
