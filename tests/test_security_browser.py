"""Security suite in the real browser (issue 15): `aisle run --demo` over a demo shop whose catalog
snapshot was poisoned (a product title and its review carry Markdown images, links and bare URLs
pointing at a local "tracker" server). Debian chromium drives the Gradio app and the widget on
another origin; the tracker must receive no request and no page may hold a foreign link or image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_browser_ui import ARGS, CHROMIUM, free_port, host_page, playwright_api, stop, wait_http

pytestmark = pytest.mark.browser
POISONED = "P0009"  # the first pick for "wireless headphones under $100"

# A reply is awaited up to this long: the first one loads the models, and on a 2-core machine in the
# middle of the full suite that has taken over 30 s (a passing run never waits the whole time).
REPLY_MS = 90_000


class Tracker(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        Tracker.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _poison(data: Path, evil: str) -> str:
    cat = data / "catalog"
    products = [json.loads(x) for x in (cat / "products.jsonl").read_text().splitlines() if x.strip()]
    title = ""
    for p in products:
        if p["id"] == POISONED:
            p["title"] = title = f"{p['title']} ![t]({evil}/title.png) {evil}/title-link"
    (cat / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in products))
    reviews = [json.loads(x) for x in (cat / "reviews.jsonl").read_text().splitlines() if x.strip()]
    mine = [r for r in reviews if r["product_id"] == POISONED][0]
    mine["text"] = (
        f"Best headphones ![r]({evil}/review.png) [deal]({evil}/review-link) see {evil}/bare "
        "and www.tracker.example for more."
    )
    reviews = [r for r in reviews if r["product_id"] != POISONED] + [mine]
    (cat / "reviews.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reviews))
    return title


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("aisle-sec-ui")
    port, host_port, evil_port = free_port(), free_port(), free_port()
    evil = f"http://127.0.0.1:{evil_port}"
    tracker = ThreadingHTTPServer(("127.0.0.1", evil_port), Tracker)
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    outer = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env = {
        **outer,
        "AISLE_DATA_DIR": str(data),
        "AISLE_GENERATOR_BACKEND": "template",
        "AISLE_EMBEDDER": "minilm",
        "AISLE_CORS_ORIGINS": json.dumps([f"http://127.0.0.1:{host_port}"]),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
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
        timeout=180,
    )
    title = _poison(data, evil)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aisle", "run", "--demo", "--port", str(port)],
        env=env,
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    host = host_page(data, port, host_port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/health", proc, 180, ready="engine_ready")
        wait_http(f"http://127.0.0.1:{host_port}/", host, 15)
        yield {
            "base": base,
            "host": f"http://127.0.0.1:{host_port}",
            "evil": evil,
            "title": title.split(" ![")[0],
            "data": data,
        }
    finally:
        stop(host)
        stop(proc)
        tracker.shutdown()
        tracker.server_close()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _foreign(page: Any, root: str, evil_port: str) -> list[str]:
    """Links and images inside ``root`` that point anywhere but this server."""
    return list(
        page.evaluate(
            """([root, port]) => Array.from(
                 document.querySelectorAll(root + ' a[href], ' + root + ' img[src]'))
             .map(e => e.href || e.src)
             .filter(u => u.includes(':' + port) || !u.startsWith(location.origin))""",
            [root, evil_port],
        )
    )


def test_gradio_chat_renders_no_foreign_image_link_or_url(server: dict[str, Any], browser: Any) -> None:
    page = browser.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(server["base"] + "/")
    box = page.locator("#aisle-input textarea")
    for n, ask in enumerate(
        ("wireless headphones under $100", f"what do reviews say about the {server['title']}?"), 1
    ):
        box.fill(ask)
        box.press("Enter")
        page.wait_for_function(
            f"document.querySelectorAll(\"#aisle-chat [data-testid='bot']\").length >= {n}"
            f" && document.querySelectorAll(\"#aisle-chat [data-testid='bot']\")[{n - 1}]"
            ".innerText.length > 20",
            timeout=REPLY_MS,
        )
    page.wait_for_timeout(1500)  # give any image a chance to load
    chat = page.locator("#aisle-chat").inner_text() + page.locator("#aisle-cards").inner_text()
    assert "Best headphones" in chat and server["title"] in chat  # the poisoned texts were shown...
    port = server["evil"].rsplit(":", 1)[1]
    assert _foreign(page, "#aisle-chat", port) == [] and _foreign(page, "#aisle-cards", port) == []
    assert not [u for u in seen if f":{port}" in u] and Tracker.hits == []  # ...and nothing was fetched
    assert "127.0.0.1:" + port not in chat  # the URLs are shown defanged, not as text a click could follow


def test_widget_renders_no_foreign_image_link_or_url(server: dict[str, Any], browser: Any) -> None:
    page = browser.new_page()
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if r.url.endswith("/api/chat") else None)
    page.goto(server["host"] + "/")
    page.locator(".aisle-w-bubble").click()
    inp = page.get_by_role("textbox", name="Message")
    inp.fill(f"what do reviews say about the {server['title']}?")
    inp.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('.aisle-w-bot').length >= 2 && "
        "document.querySelectorAll('.aisle-w-bot')[1].textContent.includes('Best headphones')",
        timeout=REPLY_MS,
    )
    page.wait_for_timeout(1000)
    port = server["evil"].rsplit(":", 1)[1]
    text = page.locator(".aisle-w").inner_text()
    assert _foreign(page, ".aisle-w", port) == [] and Tracker.hits == []
    assert "](" not in text and f"127.0.0.1:{port}" not in text
    assert sent and all(h.get("x-aisle-client") for h in sent)  # the engine learns which browser this is
    sid = page.evaluate("window.AisleWidget.sessionId()")
    assert sid and len(sid) == 32  # issued by the server with the first reply


def test_newcomer_demo_sign_in_and_download_on_this_machine(server: dict[str, Any], browser: Any) -> None:
    page = browser.new_page()
    page.goto(server["base"] + "/")
    page.locator("#aisle-who input").click()
    page.get_by_role("option").nth(1).click()
    page.wait_for_function(
        "document.querySelector('#aisle-status').innerText.includes('signed in as')", timeout=REPLY_MS
    )
    page.locator("#aisle-privacy").get_by_text("Privacy: what we store about me").click()
    page.locator("#aisle-privacy-download").click()
    link = page.locator("#aisle-export-link")
    link.wait_for(timeout=REPLY_MS)
    with page.expect_download() as dl:
        link.click()
    body = json.loads(Path(dl.value.path()).read_text())
    assert body["customer"]["id"] and not list((server["data"] / "exports").glob("*.json"))  # taken once
