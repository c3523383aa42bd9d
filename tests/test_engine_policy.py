"""Policy rules and the profile, on hand-built Understandings (no models)."""

from __future__ import annotations

from assistant.nlu.core import Understanding
from assistant.nlu.entities import Entities
from assistant.policy import decide, update_memory
from assistant.profile import Profile, stated_preferences
from assistant.shopindex import ShopIndex
from assistant.state import DialogueState
from knowledge.demo import load_demo


def U(text: str, intent: str, sentiment: str = "neutral", **ents) -> Understanding:
    return Understanding(text, [intent], 0.9, Entities(**ents), sentiment, 0.0, False)


def test_gift_asks_one_question_then_proceeds() -> None:
    st, mem = DialogueState(), {}
    d = decide(U("I need a gift", "recommend"), st, mem)
    assert d.action == "clarify" and "budget" in d.clarify
    update_memory(mem, U("I need a gift", "recommend"), d)
    d2 = decide(U("not sure, something nice", "recommend"), st, mem)
    assert d2.action == "recommend"


def test_enough_known_skips_clarification() -> None:
    d = decide(U("a gift for my dad under $80", "recommend", price_max=80.0), DialogueState(), {})
    assert d.action == "recommend" and d.args["price_max"] == 80.0
    d = decide(U("coffee maker", "recommend", categories=["Coffee Makers"]), DialogueState(), {})
    assert d.action == "recommend" and d.args["category"] == "Coffee Makers"


def test_state_constraints_flow_into_recommend_args() -> None:
    st = DialogueState()
    st.update(U("headphones under $100 not Sony", "recommend", categories=["Headphones"], price_max=100.0,
                negated_brands=["Sony"]))
    d = decide(U("something wireless", "recommend", attributes={"connectivity": "wireless"}), st, {})
    assert d.args["category"] == "Headphones" and d.args["price_max"] == 100.0
    assert d.args["exclude_brands"] == ["Sony"] and d.args["attributes"] == {"connectivity": "wireless"}


def test_order_followup_and_support_routing() -> None:
    mem: dict = {}
    st = DialogueState()
    u = U("where is my order ORD-123456", "order_status", order_ids=["ORD-123456"])
    st.update(u)
    d = decide(u, st, mem)
    assert d.action == "order_status" and d.args == {"order_id": "ORD-123456", "email": None}
    update_memory(mem, u, d)
    u2 = U("a@b.co", "out_of_scope", emails=["a@b.co"])
    st.update(u2)
    assert decide(u2, st, mem).args == {"order_id": "ORD-123456", "email": "a@b.co"}
    assert decide(U("what is your return policy", "return_refund"), DialogueState(), {}).action == "policy_qa"
    assert decide(U("please delete my data", "privacy"), DialogueState(), {}).args == {"request": "delete"}
    assert decide(U("get me a human", "human_agent"), DialogueState(), {}).action == "handoff"


def test_profile_signals_and_opt_out() -> None:
    d = load_demo()
    shop = ShopIndex(d.products, d.reviews, d.policies)
    hp = next(p for p in d.products if p.leaf_category == "Headphones")
    prof = Profile("C1", True, purchases=[(hp.id, "2026-03-02T10:00:00Z")], brand_sentiment={hp.brand: 2.0})
    sig = prof.signals(shop, {"Electronics"})
    assert sig[0].startswith("bought the ") and sig[0].endswith("in March") and f"likes {hp.brand}" in sig
    assert prof.signals(shop, {"Toys"}) == [] or all("bought" not in s for s in prof.signals(shop, {"Toys"}))
    assert prof.history() == [(hp.id, 1.0)]
    off = Profile("C1", False, purchases=[(hp.id, "2026-03-02")])
    assert off.signals(shop) == [] and off.history() == []
    assert stated_preferences(Entities(negated_brands=["Sony"]), "neutral") == {"avoid_brands": ["Sony"]}


def test_misread_questions_are_routed_by_content() -> None:
    st = DialogueState()
    st.set_shown(["P1", "P2"])
    assert decide(U("under $250", "product_question", price_max=250.0), st, {}).action == "recommend"
    d = decide(U("what's the warranty on it?", "product_question", references=["last"]), st, {})
    assert d.action == "policy_qa" and d.args["topic"] == "warranty"
    assert decide(U("do you price match?", "search"), DialogueState(), {}).args["topic"] == "price_match"
    refine = U("something cheaper, not Sony", "recommend", "negative", negated_brands=["Sony"])
    mem: dict = {}
    for _ in range(4):  # negative wording in a request is a constraint, not frustration
        d = decide(refine, st, mem)
        update_memory(mem, refine, d)
        assert d.action != "handoff"
