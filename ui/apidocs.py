"""`/docs`: the API's routes as one plain page built from the OpenAPI schema.

FastAPI's Swagger and ReDoc pages load their scripts from a CDN, which this offline server must not
need; this page has no script at all. The machine-readable schema is /api/openapi.json.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:24px auto;max-width:960px;padding:0 16px;color:#1d2939}"
    "td,th{padding:4px 8px;border-bottom:1px solid #eaecf0;text-align:left;vertical-align:top}"
    "code{background:#f2f4f7;padding:1px 4px;border-radius:4px}"
)


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page(app.openapi()))


def page(schema: dict[str, Any]) -> str:
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(params)}</td></tr>"
            )
    title = html.escape(schema.get("info", {}).get("title", "API"))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f"<p>{html.escape(schema.get('info', {}).get('description', ''))} The full schema: "
        "<a href='/api/openapi.json'><code>/api/openapi.json</code></a>. Streaming: send "
        "<code>Accept: text/event-stream</code> to <code>POST /api/chat</code>.</p>"
        "<table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
