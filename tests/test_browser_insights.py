"""Browser test: the real server (``aisle run``, template generator, the demo shop's history) with an
experiment declared; shoppers chat (the web chat, the widget and the REST API), click, rate; Insights opened
with the agent token shows every panel as a rendered plot, each drawn from data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser_ui import ARGS, ARTIFACTS, CHROMIUM, free_port, stop, wait_bot, wait_http

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
PANELS = (
    "intents",
    "sentiment",
    "ctr",
    "unanswered",
    "experiment",
    "segments",
    "churn",
    "satisfaction",
    "trajectories",
)
EXPERIMENT = """
[[experiment]]
name = "ui-test"
[[experiment.arm]]
name = "hybrid"
[[experiment.arm]]
name = "pop"
blend = { popularity = 1.0 }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("aisle-insights")
    (data / "experiments.toml").write_text(EXPERIMENT)
    port = free_port()
    outer = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env = {
        **outer,
        "AISLE_DATA_DIR": str(data),
        "AISLE_GENERATOR_BACKEND": "template",
        "AISLE_EMBEDDER": "minilm",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "OMP_NUM_THREADS": "1",
        "AISLE_CONFIG": str(data / "none.toml"),
    }
    log = (data / "server.log").open("wb")
    subprocess.run(
        [sys.executable, "-m", "aisle", "ingest", "--demo", "--no-index", "--no-progress"],
        env=env,
        cwd=data,
        check=True,
        stdout=log,
        stderr=subprocess.STDOUT,
        timeout=120,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "aisle", "run", "--port", str(port)],
        env=env,
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/health", proc, 120, ready="engine_ready")
        yield {"base": base, "data": data}
    finally:
        stop(proc)
        log.close()


def _post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(
        base + path, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return dict(json.loads(r.read()))


def _traffic(base: str) -> None:
    """Anonymous shoppers through the API: lists shown (impressions under their arm), a click and a
    rating each, a question out of the shop's scope, and one conversation that sours."""
    asks = [("wireless headphones", 5), ("a tent for camping", 4), ("a blender", 2)]
    for i, (ask, stars) in enumerate(asks):
        reply = _post(base, "/api/chat", {"message": f"show me {ask}"})
        sid = reply["done"]["session_id"]
        if reply["products"]:
            pid = reply["products"][0]["product_id"]
            _post(base, "/api/events", {"kind": "click", "session_id": sid, "product_id": pid})
        _post(base, "/api/events", {"kind": "rating", "session_id": sid, "value": stars})
        if i == 0:
            for text in (
                "I love it, thanks!",
                "this is terrible",
                "awful, nothing works",
                "I'm really angry",
            ):
                _post(base, "/api/chat", {"message": text, "session_id": sid})
    _post(base, "/api/chat", {"message": "who will win the football world cup?"})


def _insights_json(base: str) -> dict[str, Any]:
    req = urllib.request.Request(
        base + "/api/agent/insights", headers={"Authorization": "Bearer agent-demo-token"}
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return dict(json.loads(r.read()))


def test_insights_show_every_panel_with_data(server: dict[str, Any]) -> None:
    _traffic(server["base"])
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(server["base"] + "/")
        # A shopper rates their conversation in the web chat.
        page.locator("#aisle-input textarea").fill("show me running shoes")
        page.locator("#aisle-input textarea").press("Enter")
        wait_bot(page, timeout=60000)
        page.locator("#aisle-rating label", has_text="4").click()
        page.locator("#aisle-rate").click()
        page.wait_for_function(
            "document.querySelector('#aisle-rating-note').innerText.includes('Thank you')", timeout=30000
        )
        # And another in the widget (the shop's page embedding it).
        w = browser.new_context().new_page()
        w.goto(server["base"] + "/widget-demo")
        w.locator(".aisle-w-bubble").click()
        w.get_by_role("textbox", name="Message").fill("show me a coffee maker")
        w.get_by_role("textbox", name="Message").press("Enter")
        w.get_by_role("button", name="Rate this conversation 5 of 5").click(timeout=60000)
        w.wait_for_function(
            "document.querySelector('.aisle-w-rate').innerText.includes('Thanks')", timeout=15000
        )
        page.get_by_role("tab", name="Insights").click()
        page.locator("#insights-token input").fill("agent-demo-token")
        page.locator("#insights-load").click()
        page.wait_for_function(
            "document.querySelector('#insights-note').innerText.includes('At risk')", timeout=120000
        )
        for name in PANELS:  # each panel holds a decoded image
            page.wait_for_function(
                f"(() => {{ const i = document.querySelector('#insights-{name} img');"
                " return i && i.complete && i.naturalWidth > 100; })()",
                timeout=60000,
            )
        note = page.locator("#insights-note").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-insights.png"), full_page=True)
        browser.close()
    assert "experiment ui-test" in note and "exposures" in note and "At risk: C" in note
    # Each panel drew from data, not from an empty placeholder.
    d = _insights_json(server["base"])
    assert d["intents"] and d["sentiment_by_day"] and d["unanswered"]
    assert sum(v["impressions"] for k, v in d["ctr_by_variant"].items() if k.startswith("ui-test:")) > 0
    exp = d["experiments"][0]
    assert exp["experiment"] == "ui-test" and sum(a["exposures"] for a in exp["arms"]) >= 3
    assert len(d["segments"]) >= 3 and sum(s["revenue"] for s in d["segments"]) > 0
    assert len(d["at_risk"]) == 10 and all(r["reasons"] is not None for r in d["at_risk"])
    assert sum(v["ratings"] for v in d["satisfaction"]["by_arm"].values()) == 5
    assert any(t["falling"] for t in d["trajectories"])
    db = server["data"] / "aisle.db"
    import sqlite3

    con = sqlite3.connect(db)
    try:
        ratings = con.execute("SELECT value, variant FROM events WHERE kind = 'rating'").fetchall()
    finally:
        con.close()
    assert len(ratings) == 5 and all(v and v.startswith("ui-test:") for _, v in ratings)
