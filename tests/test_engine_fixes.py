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


def U(text: str, intents: list[str], sentiment: str = "neutral", **ents):
    from assistant.nlu.core import Understanding
    from assistant.nlu.entities import Entities

    return Understanding(text, intents, 0.9, Entities(**ents), sentiment, 0.0, False)


def _after_list(cat: str):
    from assistant.state import DialogueState

    st = DialogueState()
    st.update(U(f"show me {cat}", ["recommend"], categories=[cat]))
    st.set_shown(["P1", "P2"])
    return st, {"last_action": "recommend"}


def test_infer_attributes_reads_the_catalogs_words(bot: Assistant) -> None:
    inf = bot.shop.infer_attributes
    assert inf("Can you recommend an espresso machine?", "coffee maker") == {"type": ["espresso"]}
    assert inf("I need a tent for 4 people", "tent") == {"capacity_people": ["4"]}
    assert inf("I want an insulated water bottle", "water bottle") == {"insulated": ["yes"]}
    assert set(inf("It has to be at least 65W", "charger")["output_watts"]) == {"65", "100", "140"}
    assert inf("I need a new monitor for work", "monitor") == {}
    for p in bot.shop.filter(category="coffee maker", attributes=inf("an espresso machine", "coffee maker")):
        assert p.attributes["type"] == "espresso"


def test_short_follow_ups_refine_the_list_whatever_the_label() -> None:
    from assistant.policy import decide

    for text, intent in [("A programmable one", "out_of_scope"), ("Keep it under $400", "return_refund"),
                         ("GaN only", "goodbye"), ("Something strategic", "order_status"),
                         ("It needs to work for a group of 6 friends", "human_agent")]:
        st, mem = _after_list("Coffee Makers")
        d = decide(U(text, [intent]), st, mem)
        assert d.action == "recommend" and d.args["category"] == "Coffee Makers", (text, d)
    st, mem = _after_list("Running Shoes")
    d = decide(U("Hmm, I'd rather not spend more than $90", ["return_refund"]), st, mem)
    assert d.action == "recommend" and d.args["price_max"] == 90.0
    d = decide(U("Hmm, I'd rather not spend more than $90", ["search"], price_min=90.0), st, mem)
    assert d.args["price_max"] == 90.0 and d.args["price_min"] is None
    st, mem = _after_list("Running Shoes")
    assert decide(U("Thanks, bye", ["goodbye"]), st, mem).action == "goodbye"
    from assistant.state import DialogueState

    assert decide(U("Turn personalization back on please", ["privacy"]), DialogueState(), {}).args == \
        {"request": "opt_in"}


def test_handoff_only_on_a_request_for_a_person_or_anger() -> None:
    from assistant.policy import decide
    from assistant.state import DialogueState

    mem = {"last_action": "order_status", "order_id": "ORD-1"}
    d = decide(U("owen@example.com", ["human_agent"], emails=["owen@example.com"]), DialogueState(), mem)
    assert d.action == "order_status" and d.args["email"] == "owen@example.com"
    d = decide(U("Status of ORD-112063 please, my email is someone.else@b.co", ["human_agent", "order_status"],
                 order_ids=["ORD-112063"], emails=["someone.else@b.co"]), DialogueState(), {})
    assert d.action == "order_status"
    assert decide(U("Can I speak to a human agent about a refund?", ["return_refund"]), DialogueState(), {}).action \
        == "handoff"
    assert decide(U("I'm furious, get me someone who can fix this", ["complaint"], "negative"), DialogueState(),
                  {}).action == "handoff"


def test_policy_questions_go_to_policy_qa() -> None:
    from assistant.policy import decide
    from assistant.state import DialogueState

    d = decide(U("Do your gift cards expire?", ["product_question"]), DialogueState(), {})
    assert d.action == "policy_qa" and d.args["topic"] == "gift_cards"
    d = decide(U("Is there a restocking fee on opened headphones?", ["search"], categories=["Headphones"]),
               DialogueState(), {})
    assert d.action == "policy_qa" and d.args["topic"] == "returns"
    d = decide(U("Does that include marketplace sellers?", ["order_status"]), DialogueState(),
               {"last_action": "policy_qa", "policy_topic": "price_match"})
    assert d.action == "policy_qa" and d.args["topic"] == "price_match"


def test_two_requests_are_both_served(bot: Assistant) -> None:
    done = bot.respond("two-1", "Show me yoga mats under $50, and also what is your return policy?")
    kinds = {c.kind for c in done.citations}
    assert "policy" in kinds and "product" in kinds, done
    assert set(done.actions) >= {"recommend", "policy_qa"}


def test_purchased_products_are_not_recommended_again(tmp_path: Path) -> None:
    a = demo_assistant(f"sqlite:///{tmp_path / 'p.db'}")
    a.respond("anon", "recommend me some headphones")
    top = a.store.load_state("anon")["dialogue"]["shown"][0]  # what anyone would be offered first
    a.store.upsert_customer("C9", "Buyer")
    a.store.ensure_session("buyer", "C9")
    a.store.add_event("purchase", session_id="buyer", customer_id="C9", product_id=top)
    for text in ("recommend me some headphones", "headphones under $500"):
        done = a.respond("buyer", text, customer_id="C9")
        shown = a.store.load_state("buyer")["dialogue"]["shown"]
        assert done.actions[0] == "recommend" and shown and top not in shown


def test_support_questions_are_routed_to_their_policy() -> None:
    from assistant.policy import decide
    from assistant.state import DialogueState

    cases = [("Can I still cancel an order after it has shipped?", "cancel_order", "neutral", "cancellations"),
             ("My tracking hasn't updated in a week, what should I do?", "privacy", "negative", "order_tracking"),
             ("My headphones stopped working after two days, this is terrible", "out_of_scope", "negative", "warranty"),
             ("How long until the money is back on my card?", "return_refund", "neutral", "refunds")]
    for text, intent, sent, topic in cases:
        d = decide(U(text, [intent], sent), DialogueState(), {})
        assert d.action == "policy_qa" and d.args["topic"] == topic, (text, d)
    praise = U("Your shop is great, I love my new coffee maker", ["greeting"], "positive", categories=["Coffee Makers"])
    assert decide(praise, DialogueState(), {}).action == "greeting"
    assert decide(U("I need to cancel an order", ["cancel_order"]), DialogueState(), {}).action == "cancel_order"
    d = decide(U("Where is ORD-999999? My email is t@e.com", ["privacy", "order_status"], order_ids=["ORD-999999"],
                 emails=["t@e.com"]), DialogueState(), {})
    assert d.action == "order_status" and d.args == {"order_id": "ORD-999999", "email": "t@e.com"}
    d = decide(U("Do you sell my data to advertisers?", ["privacy"]), DialogueState(), {})
    assert d.action == "policy_qa" and d.args["topic"] == "privacy"
    assert decide(U("What personal data do you store about me?", ["privacy"]), DialogueState(), {}).action == "privacy"
    d = decide(U("How long will that take?", ["shipping"]), DialogueState(), {"last_action": "privacy"})
    assert d.action == "policy_qa" and d.args["topic"] == "privacy"
    d = decide(U("My headphones stopped working after two days", ["out_of_scope"]), DialogueState(), {})
    assert d.action == "policy_qa" and d.args["topic"] == "warranty"


def test_price_and_stock_questions_read_the_record(bot: Assistant) -> None:
    bot.respond("pq", "running shoes under $150")
    first = bot.store.load_state("pq")["dialogue"]["shown"][0]
    done = bot.respond("pq", "How much is the first one?")
    p = bot.shop.products[first]
    assert done.actions == ["product_details"] and f"{p.price:,.2f}" in done.text


def test_named_product_questions_and_policy_follow_ups() -> None:
    from assistant.policy import decide
    from assistant.state import DialogueState

    d = decide(U("Is the Basics Co. Tempo Max Cork Yoga Mat in stock?", ["search"], product_mentions=["P0166"]),
               DialogueState(), {})
    assert d.action == "product_details" and d.args == {"product_id": "P0166"}
    d = decide(U("Any reviews on the Sonara Kite X?", ["search"], product_mentions=["P0007"]), DialogueState(), {})
    assert d.action == "product_qa" and d.args["product_id"] == "P0007"
    d = decide(U("Does that include third-party sellers?", ["payment"]), DialogueState(),
               {"last_action": "policy_qa", "policy_topic": "price_match"})
    assert d.args["topic"] == "price_match"


def test_policy_plus_products_in_one_message(bot: Assistant) -> None:
    done = bot.respond("two-2", "Do you ship to Canada? Also I'm after a cheap dotted notebook")
    assert done.actions[0] == "policy_qa" and "recommend" in done.actions
    assert any(c.kind == "product" for c in done.citations) and any(c.kind == "policy" for c in done.citations)
