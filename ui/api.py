"""The web server: JSON + SSE routes under /api, the widget assets, and the Gradio app at /.

The routes are a thin adapter over ``ui.service.Backend`` (and through it the engine); they
validate input, map engine errors to HTTP statuses, and never let a bad request crash the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from assistant.api import BusyError
from assistant.errors import (
    AccessDeniedError,
    AisleError,
    ConfigError,
    DataError,
    ModelMissingError,
    NotFoundError,
)
from assistant.events import event_to_dict
from assistant.identity import Identity
from ui import agent_api, apidocs, customer_api
from ui.http import BodyLimit, SlowDown, client_address, identity_dependency, limit, slow_down_response
from ui.render import product_svg
from ui.service import Backend

if TYPE_CHECKING:
    from assistant.api import Engine
    from assistant.settings import Settings
    from assistant.store import Store

log = logging.getLogger("aisle.ui")
HERE = Path(__file__).resolve().parent
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
RETRY_AFTER_S = 5


class ChatIn(BaseModel):
    session_id: str | None = Field(
        default=None,
        max_length=64,
        description="Omit it to start a conversation: the server issues a 128-bit id (the X-Session-Id "
        "header and the done event carry it); send that id with the next messages. Client-chosen ids are "
        "refused.",
    )
    message: str = Field(min_length=1)
    customer_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Optional: must be the subject of the customer token sent as "
        "'Authorization: Bearer <token>' (or X-Customer-Token).",
    )


def _sse(ev: Any) -> str:
    d = event_to_dict(ev) if not isinstance(ev, dict) else ev
    return f"event: {d.get('type', 'message')}\ndata: {json.dumps(d, ensure_ascii=False, default=str)}\n\n"


def busy_response() -> JSONResponse:
    return JSONResponse(
        {
            "error": "busy",
            "detail": "Aisle is busy answering other shoppers; retry in a few seconds.",
            "retry_after_s": RETRY_AFTER_S,
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _install_errors(app: FastAPI) -> None:
    # A model or setting that is missing is the server's problem (503), with the fix in the message.
    statuses = {
        NotFoundError: 404,
        AccessDeniedError: 403,
        DataError: 400,
        ModelMissingError: 503,
        ConfigError: 503,
    }

    @app.exception_handler(SlowDown)
    async def _slow(_req: Request, exc: SlowDown) -> JSONResponse:
        return slow_down_response(exc.decision)

    @app.exception_handler(AisleError)
    async def _aisle(_req: Request, exc: AisleError) -> JSONResponse:
        if isinstance(exc, BusyError):
            return busy_response()
        status = next((s for cls, s in statuses.items() if isinstance(exc, cls)), 400)
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "detail": errs}, status_code=422)

    @app.exception_handler(Exception)
    async def _crash(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse({"error": "internal error", "detail": type(exc).__name__}, status_code=500)


def _chat_route(r: APIRouter, backend: Backend, who_is: Any) -> None:
    admission = backend.admission  # per app (shared with the web chat), never global

    @r.post("/chat", summary="One chat turn; SSE with Accept: text/event-stream or ?stream=1")
    async def chat(
        body: ChatIn, request: Request, stream: bool = Query(False), who: Identity = Depends(who_is)
    ) -> Response:
        admission.check_length(body.message)
        if body.customer_id and body.customer_id != who.customer_id and not who.staff:
            raise AccessDeniedError(
                "customer_id must be the customer of the token sent as 'Authorization: Bearer "
                "<customer token>' (or leave customer_id out)"
            )
        address = client_address(request)
        if body.session_id is None:
            limit(backend, "sessions", request)
        sid = await run_in_threadpool(backend.open_session, who, body.session_id)
        verdict = admission.quota(sid, address)
        if not verdict.allowed:
            return slow_down_response(verdict)
        headers = {"X-Session-Id": sid}
        # The head (up to the product cards) is pulled inside the turn gate, so 'busy' and bad input
        # become a status code, not a broken stream; generation then streams outside the gate.
        try:
            head, events = await admission.start(
                sid, body.message, body.customer_id or who.customer_id, who.client_id
            )
        except BusyError:
            return busy_response()
        wants_sse = stream or "text/event-stream" in request.headers.get("accept", "")
        if wants_sse:
            return StreamingResponse(
                _sse_stream(head, events),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **headers},
            )
        rest = await run_in_threadpool(list, events)
        return JSONResponse(collect([*head, *rest]), headers=headers)


def api_router(backend: Backend) -> APIRouter:
    r = APIRouter(prefix="/api")
    who_is = identity_dependency(backend)
    _chat_route(r, backend, who_is)

    @r.get("/search", summary="Product search")
    def search(
        request: Request, q: str = Query(..., min_length=1, max_length=500), k: int = Query(10, ge=1, le=50)
    ) -> dict[str, Any]:
        limit(backend, "search", request)
        return {"query": q, "results": backend.search(q, k=k)}

    @r.get("/recommendations", summary="Recommended products (personalized for the customer of the token)")
    def recommendations(
        request: Request,
        customer_id: str | None = Query(None, pattern=ID_PATTERN),
        k: int = Query(10, ge=1, le=50),
        session_id: str | None = Query(None, max_length=64),
        who: Identity = Depends(who_is),
    ) -> dict[str, Any]:
        limit(backend, "recommendations", request)
        if customer_id:
            backend.access.require_customer(who, customer_id)
        if session_id:  # its in-session clicks are personal too: only for whoever holds the conversation
            backend.access.session(who, session_id)
        return {
            "customer_id": customer_id,
            "results": backend.recommendations(customer_id, k=k, session_id=session_id),
        }

    # Product ids may hold any printable character, "/" included (sent as %2F): `:path` takes it whole.
    # The picture's route comes first, so ".../image.svg" is never read as part of an id.
    @r.get(
        "/products/{product_id:path}/image.svg",
        summary="Placeholder product picture",
        include_in_schema=False,
    )
    def product_image(product_id: str) -> Response:
        title = backend.product_title(product_id) or product_id
        return Response(
            product_svg(product_id, title),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @r.get("/products/{product_id:path}", summary="One product (URL-encode the id: a/b -> a%2Fb)")
    def product(product_id: str) -> dict[str, Any]:
        return backend.product(product_id)

    return r


def _sse_stream(head: list[Any], events: Iterator[Any]) -> Iterator[str]:
    for ev in head:
        yield _sse(ev)
    try:
        for ev in events:
            yield _sse(ev)
    except Exception as exc:  # the stream already started: report in-band, keep serving
        log.exception("stream failed")
        kind = "busy" if isinstance(exc, BusyError) else "internal error"
        yield _sse({"type": "error", "error": kind, "detail": str(exc)[:200]})
    finally:  # a client that hangs up must free the engine's generation slot at once
        if isinstance(events, Generator):
            events.close()


def collect(events: list[Any]) -> dict[str, Any]:
    """The non-streaming reply: the same events folded into one JSON object."""
    out: dict[str, Any] = {"understood": None, "products": [], "text": "", "done": None}
    for ev in events:
        d = event_to_dict(ev)
        if d["type"] == "understood":
            out["understood"] = d
        elif d["type"] == "products":
            out["products"] = d["cards"]
        elif d["type"] == "text":
            out["text"] += d["text"]
        elif d["type"] == "done":
            out["done"] = d
            out["text"] = d["text"] or out["text"]
    return out


def _static_routes(app: FastAPI) -> None:
    widget = HERE / "widget"

    @app.get("/widget.js", include_in_schema=False)
    def widget_js() -> FileResponse:
        return FileResponse(
            widget / "widget.js",
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/widget.css", include_in_schema=False)
    def widget_css() -> FileResponse:
        return FileResponse(
            widget / "widget.css", media_type="text/css", headers={"Cache-Control": "public, max-age=300"}
        )

    @app.get("/widget-demo", include_in_schema=False)
    def widget_demo() -> HTMLResponse:
        import html

        greeting = html.escape(app.state.backend.shop_texts().greeting, quote=True)  # the shop's own example
        page = (widget / "demo.html").read_text(encoding="utf-8")
        return HTMLResponse(
            page.replace(
                'data-greeting="Hi! What are you looking for today?" defer></script>\n</body>',
                f'data-greeting="{greeting}" defer></script>\n</body>',
            )
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon")


def create_app(
    settings: Settings, assistant: Engine | None = None, *, store: Store | None = None, with_ui: bool = True
) -> FastAPI:
    """The whole server. ``assistant`` is injected in tests; otherwise built lazily from settings."""
    backend = Backend(settings, assistant=assistant, store=store)
    app = FastAPI(
        title="Aisle API",
        version="0.1.0",
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        description="Chat (JSON or Server-Sent Events), catalog, events, privacy and agent routes.",
    )
    app.state.backend = backend
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Accept", "Authorization", "X-Customer-Token", "X-Aisle-Client"],
            expose_headers=["X-Session-Id", "Retry-After"],
        )
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes
    )  # outermost: before anything reads the body
    _install_errors(app)
    app.include_router(api_router(backend))
    app.include_router(customer_api.router(backend))
    app.include_router(agent_api.router(backend))
    _static_routes(app)
    apidocs.install(app)

    @app.get("/api/health", summary="Liveness, and whether the engine has finished loading")
    def health() -> dict[str, Any]:
        return {"ok": True, "engine_ready": backend.ready, "engine_error": backend.start_error}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "DELETE", "PUT"], include_in_schema=False)
    def api_404(rest: str) -> JSONResponse:
        # Without this, unknown /api paths would fall through to the Gradio app's HTML.
        raise HTTPException(404, f"no API route /api/{rest}: see /api/openapi.json")

    if with_ui:
        from ui.app import mount

        mount(app, backend)
    return app
