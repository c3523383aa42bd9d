"""Tools: catalog tools, order tools (privacy of other customers' orders), tickets, privacy,
LangChain export."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop

from assistant.engine import Assistant
from assistant.fakes import ScriptedReader
from assistant.generate.facts import build_facts
from assistant.generate.template import TemplateWriter
from assistant.tools import TOOLS, OrderStatus, ToolContext, as_langchain_tools, call_tool
from knowledge.constraints import Bound, Constraints
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def a(tmp_path_factory: pytest.TempPathFactory, demo_shop: DemoShop) -> Assistant:
    db = Path(tmp_path_factory.mktemp("tools")) / "t.db"
    return demo_shop.assistant(db, reader=ScriptedReader())  # the tools never read messages


def _orders(a: Assistant) -> list[dict[str, Any]]:
    return load_demo().orders


def _ctx(a: Assistant, **kw: Any) -> ToolContext:
    base = ToolContext(a.shop, a.store, a.retriever, None, session_id="tool-s", customer_id=None)
    return replace(base, **kw)


def test_registry_has_every_tool_with_docs() -> None:
    assert set(TOOLS) == {
        "recommend",
        "search_products",
        "rank",
        "product_details",
        "compare",
        "product_qa",
        "order_status",
        "cancel_order",
        "return_or_refund",
        "policy_qa",
        "handoff",
        "privacy",
    }
    assert all(fn.__doc__ and len(fn.__doc__) > 30 for fn in TOOLS.values())
    with pytest.raises(KeyError, match="choose one of"):
        call_tool("teleport", None)  # type: ignore[arg-type]


def test_recommend_honours_constraints(a: Assistant) -> None:
    c = Constraints(
        categories=("Headphones",), price=Bound(None, 150.0), currency="USD", exclude_brands=("Sony",)
    )
    res = call_tool("recommend", _ctx(a), constraints=c, query="wireless headphones", k=3)
    assert 1 <= len(res.products) <= 3 and res.ids == [p.product_id for p in res.products]
    for p in res.products:
        prod = a.shop.products[p.product_id]
        assert prod.leaf_category == "Headphones" and prod.price <= 150 and prod.brand != "Sony"
        assert p.reason and "under $150" in p.reason.lower()
    assert {"under $150", "not Sony"} <= set(res.constraints)
    assert (
        call_tool(
            "recommend", _ctx(a), constraints=Constraints(categories=("Headphones",), price=Bound(None, 1.0))
        ).products
        == []
    )
    owned = call_tool(
        "recommend", _ctx(a, owned=tuple(res.ids)), constraints=c, query="wireless headphones", k=3
    )
    assert owned.products and not set(owned.ids) & set(res.ids)  # bought products are not offered again


def test_compare_and_product_qa_carry_record_ids(a: Assistant) -> None:
    cmp_ = call_tool("compare", _ctx(a), product_ids=["P0009", "P0012"])
    assert cmp_.ids == ["P0009", "P0012"] and "battery_life_hours" in cmp_.attributes
    assert set(cmp_.attributes["colour"]) == {"P0009", "P0012"}
    assert all(0 <= v <= 1 for v in cmp_.positive_share.values() if v is not None)
    qa = call_tool("product_qa", _ctx(a), product_id="P0009", question="how is the battery life?")
    assert qa.review_ids and all(
        a.shop.products["P0009"].id == r.product_id for r in a.shop.reviews["P0009"] if r.id in qa.review_ids
    )
    assert call_tool("product_details", _ctx(a), product_id="NOPE").product is None


def test_order_status_never_reveals_other_customers_orders(a: Assistant) -> None:
    order = _orders(a)[0]
    ok = call_tool("order_status", _ctx(a), order_id=order["id"], email=order["email"].upper())
    assert ok.found and ok.status == order["status"] and ok.ids == [order["id"]]
    wrong_email = call_tool("order_status", _ctx(a), order_id=order["id"], email="someone.else@example.com")
    missing = call_tool("order_status", _ctx(a), order_id="ORD-999999", email="someone.else@example.com")
    assert replace(wrong_email, order_id=None) == replace(missing, order_id=None) == OrderStatus(None, False)
    tw = TemplateWriter()
    texts = {tw.render(build_facts("order_status", "", r, a.shop)) for r in (wrong_email, missing)}
    assert len(texts) == 1 and order["status"] not in next(iter(texts))
    assert call_tool("order_status", _ctx(a), order_id=None, email=None).needs == "order_id"
    assert call_tool("order_status", _ctx(a), order_id=order["id"], email=None).needs == "email"


def test_cancel_applies_policy_and_opens_ticket_only_when_allowed(a: Assistant) -> None:
    orders = _orders(a)
    processing = next(o for o in orders if o["status"] == "processing")
    shipped = next(o for o in orders if o["status"] == "shipped")
    before = len(a.store.tickets(kind="cancel"))
    res = call_tool("cancel_order", _ctx(a), order_id=processing["id"], email=processing["email"])
    assert res.allowed and res.ticket_id and res.policy
    assert len(a.store.tickets(kind="cancel")) == before + 1
    assert a.store.get_order(processing["id"])["status"] == "processing"  # a request, not a cancellation
    text = TemplateWriter().render(build_facts("cancel_order", "", res, a.shop))
    assert f"#{res.ticket_id}" in text and "nothing has been cancelled yet" in text
    no = call_tool("cancel_order", _ctx(a), order_id=shipped["id"], email=shipped["email"])
    assert not no.allowed and no.ticket_id is None and "shipped" in no.reason
    assert len(a.store.tickets(kind="cancel")) == before + 1


def test_return_window_from_policy(a: Assistant) -> None:
    order = next(o for o in _orders(a) if o["status"] == "delivered")
    delivered = datetime.fromisoformat(order["tracking"][-1]["ts"][:19])
    window = a.shop.return_window_days()
    inside = call_tool(
        "return_or_refund",
        _ctx(a, now=lambda: delivered + timedelta(days=window - 1)),
        order_id=order["id"],
        email=order["email"],
    )
    assert inside.allowed and inside.ticket_id
    late = call_tool(
        "return_or_refund",
        _ctx(a, now=lambda: delivered + timedelta(days=window + 5)),
        order_id=order["id"],
        email=order["email"],
    )
    assert not late.allowed and late.ticket_id is None and f"{window}-day" in late.reason


def test_policy_handoff_privacy(a: Assistant) -> None:
    pol = call_tool("policy_qa", _ctx(a), question="how long does standard shipping take?")
    assert pol.ids and pol.snippets[0].kind == "policy"
    h = call_tool("handoff", _ctx(a), summary="shopper wants a person")
    assert h.ticket_id and any(t["id"] == h.ticket_id for t in a.store.tickets(kind="handoff"))
    assert call_tool("privacy", _ctx(a), request="export").needs_login
    cid = _orders(a)[1]["customer_id"]
    exp = call_tool("privacy", _ctx(a, customer_id=cid), request="export")
    assert exp.done and exp.export["customer"]["id"] == cid
    call_tool("privacy", _ctx(a, customer_id=cid), request="opt_out")
    assert not a.store.personalization_allowed(cid)
    call_tool("privacy", _ctx(a, customer_id=cid), request="opt_in")
    assert a.store.personalization_allowed(cid)
    d = call_tool("privacy", _ctx(a, customer_id=cid), request="delete")
    assert d.done and a.store.get_customer(cid) is not None  # an agent verifies and deletes


def test_langchain_structured_tools(a: Assistant) -> None:
    tools = {t.name: t for t in as_langchain_tools(_ctx(a))}
    assert set(tools) == set(TOOLS)
    assert "order_id" in tools["order_status"].args and "ctx" not in tools["recommend"].args
    out = tools["compare"].invoke({"product_ids": ["P0009", "P0012"]})
    assert out.ids == ["P0009", "P0012"]
