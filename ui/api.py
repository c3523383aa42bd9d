"""The web server: JSON + SSE routes under /api, the widget assets, and the Gradio app at /.

The routes are a thin adapter over ``ui.service.Backend`` (and through it the engine); they
validate input, map engine errors to HTTP statuses, and never let a bad request crash the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from assistant.errors import (
    AccessDeniedError,
    AisleError,
    ConfigError,
    DataError,
    ModelMissingError,
    NotFoundError,
)
from assistant.events import Done, Products, TextDelta, event_to_dict
from ui import agent_api
from ui.insights import variant_for
from ui.render import product_svg
from ui.service import Backend, customer_token, is_busy, token_ok

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger("aisle.ui")
HERE = Path(__file__).resolve().parent
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
RETRY_AFTER_S = 5


class ChatIn(BaseModel):
    session_id: str = Field(pattern=ID_PATTERN, description="Any client-chosen id; keep it secret, it reads the transcript.")
    message: str = Field(min_length=1)
    customer_id: str | None = Field(default=None, pattern=ID_PATTERN,
                                    description="Needs the X-Customer-Token from POST /api/customers/{id}/login.")


class EventIn(BaseModel):
    kind: Literal["click", "cart", "feedback", "thumbs", "view", "purchase", "impression"]
    session_id: str | None = Field(default=None, pattern=ID_PATTERN)
    customer_id: str | None = Field(default=None, pattern=ID_PATTERN)
    product_id: str | None = Field(default=None, pattern=ID_PATTERN)
    value: float | None = Field(default=None, ge=-5, le=5)
    variant: str | None = Field(default=None, max_length=32)


def _sse(ev: Any) -> str:
    d = event_to_dict(ev) if not isinstance(ev, dict) else ev
    return f"event: {d.get('type', 'message')}\ndata: {json.dumps(d, ensure_ascii=False, default=str)}\n\n"


def busy_response(exc: BaseException | None = None) -> JSONResponse:
    return JSONResponse({"error": "busy", "detail": "Aisle is busy answering other shoppers; retry in a few seconds.",
                         "retry_after_s": RETRY_AFTER_S}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_S)})


def _install_errors(app: FastAPI) -> None:
    # A model or setting that is missing is the server's problem (503), with the fix in the message.
    statuses = {NotFoundError: 404, AccessDeniedError: 403, DataError: 400, ModelMissingError: 503, ConfigError: 503}

    @app.exception_handler(AisleError)
    async def _aisle(_req: Request, exc: AisleError) -> JSONResponse:
        if is_busy(exc):
            return busy_response(exc)
        status = next((s for cls, s in statuses.items() if isinstance(exc, cls)), 400)
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "detail": errs}, status_code=422)

    @app.exception_handler(Exception)
    async def _crash(_req: Request, exc: Exception) -> JSONResponse:
        if is_busy(exc):
            return busy_response(exc)
        log.exception("unhandled error")
        return JSONResponse({"error": "internal error", "detail": type(exc).__name__}, status_code=500)


def _check_customer(settings: Settings, customer_id: str, token: str | None, auth: str | None) -> None:
    agent = auth.removeprefix("Bearer ").strip() if auth else None
    if token_ok(token, customer_token(settings, customer_id)):
        return
    from assistant.tokens import TokenDigests

    if TokenDigests.from_settings(settings).ok(agent):
        return
    raise AccessDeniedError("this customer's data needs the X-Customer-Token from POST /api/customers/{id}/login")


def slow_down_response(d: Any) -> JSONResponse:
    from assistant.ratelimit import slow_down_message

    return JSONResponse({"error": "slow down", "detail": slow_down_message(d), "retry_after_s": d.retry_after_s,
                         "scope": d.scope}, status_code=429, headers={"Retry-After": str(d.retry_after_s)})


# The engine's events up to and including the first of these end a turn's CPU-heavy head.
HEAD_END = (Products, TextDelta, Done)
GATE_HOLD_S = 1.0  # a head slower than this (a model's first token, a stuck tool) stops blocking others


def _head(events: Iterator[Any]) -> list[Any]:
    out: list[Any] = []
    for ev in events:
        out.append(ev)
        if isinstance(ev, HEAD_END):
            break
    return out


class TurnGate:
    """At most ``n`` chat turns in understanding/retrieval at once; the others wait in FIFO order
    (asyncio.Semaphore wakes waiters in arrival order). Held by the request's coroutine only, so a
    client that hangs up or an exception can never leak a slot; a head that takes longer than
    GATE_HOLD_S keeps running but lets the next turn in."""

    def __init__(self, n: int) -> None:
        self._sem = asyncio.Semaphore(n)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[_Held]:
        await self._sem.acquire()
        held = _Held(self._sem)
        try:
            yield held
        finally:
            held.release()


class _Held:
    def __init__(self, sem: asyncio.Semaphore) -> None:
        self._sem: asyncio.Semaphore | None = sem

    def release(self) -> None:
        if self._sem is not None:
            self._sem.release()
            self._sem = None

    async def pull(self, work: Awaitable[list[Any]]) -> list[Any]:
        task = asyncio.ensure_future(work)
        try:
            await asyncio.wait({task}, timeout=GATE_HOLD_S)
        finally:
            self.release()
        return await task


def api_router(backend: Backend) -> APIRouter:
    r = APIRouter(prefix="/api")
    settings = backend.settings
    limits = backend.limits  # per app (shared with the web chat), never global
    gate = TurnGate(settings.engine_concurrency)  # per app too

    @r.post("/chat", summary="One chat turn; SSE with Accept: text/event-stream or ?stream=1")
    async def chat(body: ChatIn, request: Request, stream: bool = Query(False),
                   x_customer_token: str | None = Header(None), authorization: str | None = Header(None)) -> Response:
        if len(body.message) > settings.max_message_chars:
            raise DataError(f"message is {len(body.message)} characters; the limit is {settings.max_message_chars}")
        verdict = limits.check(body.session_id, request.client.host if request.client else None)
        if not verdict.allowed:
            return slow_down_response(verdict)
        if body.customer_id:
            _check_customer(settings, body.customer_id, x_customer_token, authorization)
        # Understanding and retrieval run for at most `engine_concurrency` turns at once, admitted in
        # arrival order: on a small machine more parallel turns only share the CPU, the GIL and the
        # database (every turn gets slower, the tail much slower); queued turns wait in the event loop.
        # Embedding the message needs no session state and no slot: messages that arrive together
        # (or wait for the gate) share one forward pass, which is what keeps up with bursts.
        await run_in_threadpool(backend.prepare, body.message)
        async with gate.turn() as held:
            events: Iterator[Any] = await run_in_threadpool(backend.stream, body.session_id, body.message,
                                                            body.customer_id)
            # Pull up to the product cards here, so 'busy' and bad input become a status code, not a
            # broken stream; generation (a model's queue and first token) then streams outside the gate.
            try:
                head = await held.pull(run_in_threadpool(_head, events))
            except Exception as exc:
                if is_busy(exc):
                    return busy_response(exc)
                raise
        wants_sse = stream or "text/event-stream" in request.headers.get("accept", "")
        if wants_sse:
            def gen() -> Iterator[str]:
                for ev in head:
                    yield _sse(ev)
                try:
                    for ev in events:
                        yield _sse(ev)
                except Exception as exc:  # the stream already started: report in-band, keep serving
                    log.exception("stream failed")
                    kind = "busy" if is_busy(exc) else "internal error"
                    yield _sse({"type": "error", "error": kind, "detail": str(exc)[:200]})
                finally:  # a client that hangs up must free the engine's generation slot at once
                    close = getattr(events, "close", None)
                    if close is not None:
                        close()
            return StreamingResponse(gen(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        rest = await run_in_threadpool(list, events)
        return JSONResponse(collect([*head, *rest]))

    @r.get("/sessions/{session_id}/messages", summary="A conversation's messages (poll with ?after=ID)")
    def messages(session_id: str, after: int = Query(0, ge=0)) -> dict[str, Any]:
        return {"session_id": session_id, "messages": backend.messages(session_id, after_id=after)}

    @r.get("/search", summary="Product search")
    def search(q: str = Query(..., min_length=1, max_length=500), k: int = Query(10, ge=1, le=50)) -> dict[str, Any]:
        return {"query": q, "results": backend.search(q, k=k)}

    @r.get("/recommendations", summary="Recommended products (personalized when customer_id and its token are given)")
    def recommendations(customer_id: str | None = Query(None, pattern=ID_PATTERN), k: int = Query(10, ge=1, le=50),
                        session_id: str | None = Query(None, pattern=ID_PATTERN),
                        x_customer_token: str | None = Header(None),
                        authorization: str | None = Header(None)) -> dict[str, Any]:
        if customer_id:
            _check_customer(settings, customer_id, x_customer_token, authorization)
        return {"customer_id": customer_id, "results": backend.recommendations(customer_id, k=k, session_id=session_id)}

    @r.get("/products/{product_id}", summary="One product")
    def product(product_id: str) -> dict[str, Any]:
        return backend.product(product_id)

    @r.get("/products/{product_id}/image.svg", summary="Placeholder product picture", include_in_schema=False)
    def product_image(product_id: str) -> Response:
        title = backend.product_title(product_id) or product_id
        return Response(product_svg(product_id, title), media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=3600"})

    @r.post("/events", summary="Record a click, cart add or thumbs up/down")
    def post_event(ev: EventIn) -> dict[str, Any]:
        kind, value = ev.kind, ev.value
        if kind == "thumbs":
            kind = "feedback"
        if ev.session_id:
            backend.store.ensure_session(ev.session_id)
        cid = ev.customer_id if ev.customer_id and backend.store.get_customer(ev.customer_id) else None
        eid = backend.store.add_event(kind, session_id=ev.session_id, customer_id=cid, product_id=ev.product_id,
                                      value=value, variant=ev.variant or variant_for(cid or ev.session_id),
                                      payload={"source": "ui"})
        return {"ok": True, "id": eid}

    @r.get("/customers", summary="Demo customers one can sign in as")
    def customers() -> dict[str, Any]:
        return {"customers": backend.customers()}

    @r.post("/customers/{customer_id}/login", summary="Demo sign-in: returns the customer's X-Customer-Token")
    def login(customer_id: str) -> dict[str, Any]:
        if backend.store.get_customer(customer_id) is None:
            raise NotFoundError(f"no customer {customer_id!r}: pick one from GET /api/customers")
        return {"customer_id": customer_id, "token": customer_token(settings, customer_id)}

    @r.get("/customers/{customer_id}/export", summary="Everything stored about a customer (JSON)")
    def export(customer_id: str, x_customer_token: str | None = Header(None),
               authorization: str | None = Header(None)) -> JSONResponse:
        _check_customer(settings, customer_id, x_customer_token, authorization)
        data = backend.store.export_customer(customer_id)
        if data.get("customer") is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{customer_id}.json"'})

    @r.delete("/customers/{customer_id}", summary="Delete everything stored about a customer")
    def delete(customer_id: str, x_customer_token: str | None = Header(None),
               authorization: str | None = Header(None)) -> dict[str, Any]:
        _check_customer(settings, customer_id, x_customer_token, authorization)
        fn = getattr(backend.assistant, "forget_customer", None)
        ok = fn(customer_id) if callable(fn) else backend.store.delete_customer(customer_id)
        if not ok:
            raise NotFoundError(f"no customer {customer_id!r}")
        return {"deleted": customer_id}

    @r.post("/customers/{customer_id}/opt-out", summary="Stop personalization for a customer (opt back in with ?allow=1)")
    def opt_out(customer_id: str, allow: bool = Query(False), x_customer_token: str | None = Header(None),
                authorization: str | None = Header(None)) -> dict[str, Any]:
        _check_customer(settings, customer_id, x_customer_token, authorization)
        if backend.store.get_customer(customer_id) is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        backend.store.set_personalization(customer_id, allow)
        return {"customer_id": customer_id, "personalization": allow}

    return r


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
        return FileResponse(widget / "widget.js", media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=300"})

    @app.get("/widget.css", include_in_schema=False)
    def widget_css() -> FileResponse:
        return FileResponse(widget / "widget.css", media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    @app.get("/widget-demo", include_in_schema=False)
    def widget_demo() -> HTMLResponse:
        return HTMLResponse((widget / "demo.html").read_text(encoding="utf-8"))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon")


def create_app(settings: Settings, assistant: Any | None = None, *, store: Any | None = None,
               with_ui: bool = True) -> FastAPI:
    """The whole server. ``assistant`` is injected in tests; otherwise built lazily from settings."""
    backend = Backend(settings, assistant=assistant, store=store)
    app = FastAPI(title="Aisle API", version="0.1.0", docs_url=None, openapi_url="/api/openapi.json",
                  redoc_url=None, description="Chat (JSON or Server-Sent Events), catalog, events, privacy and agent routes.")
    app.state.backend = backend
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                           allow_headers=["Content-Type", "Accept", "Authorization", "X-Customer-Token"])
    _install_errors(app)
    app.include_router(api_router(backend))
    app.include_router(agent_api.router(backend))
    _static_routes(app)

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


def cli(argv: list[str]) -> int:
    import uvicorn

    from assistant.settings import load_settings

    p = argparse.ArgumentParser(prog="aisle run", description="Serve the Aisle web app, API and widget.")
    p.add_argument("--host", default=None, help="default: settings.host (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: settings.port (7860)")
    p.add_argument("--no-demo-customers", action="store_true",
                   help="do not load the demo shop's customers and orders into an empty database")
    args = p.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = load_settings(**overrides)
    from assistant.pii import install_log_redaction

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # no email, phone, card or address reaches a log line
    if not args.no_demo_customers:
        _seed_demo_customers(settings)
    app = create_app(settings)
    backend: Backend = app.state.backend
    # Build the engine in the background: the page is up at once, the first answer is still fast.
    threading.Thread(target=_warm, args=(backend,), daemon=True, name="aisle-warm").start()
    print(f"Aisle on http://{settings.host}:{settings.port}/  (OpenAPI: /api/openapi.json, widget demo: /widget-demo)")
    # Behind a reverse proxy every shopper arrives from the proxy's address; uvicorn takes the client
    # address from X-Forwarded-For only when the proxy is one we trust.
    uvicorn.run(app, host=settings.host, port=settings.port, workers=1, reload=False, log_level="warning",
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)
    return 0


def _seed_demo_customers(settings: Settings) -> None:
    """'Sign in as a demo customer' needs the demo shop's customers; load them once into an empty
    database, and only when the ingested catalog is the demo shop's."""
    from assistant.store import Store

    store = Store.from_settings(settings)
    try:
        if store.list_customers(limit=1):
            return
        from knowledge.demo import load_demo
        from knowledge.snapshot import load_catalog

        shop = load_demo()
        ours = {p.id for p in load_catalog(settings.data_dir).products}
        if ours and ours <= {p.id for p in shop.products}:
            store.load_demo(shop)
    except Exception as exc:  # no catalog yet: the engine will say what to run
        log.warning("demo customers not loaded: %s", exc)
    finally:
        store.close()


def _warm(backend: Backend) -> None:
    try:
        backend.warm()
    except Exception as exc:
        backend.start_error = f"{type(exc).__name__}: {exc}"
        log.error("engine failed to start (%s); requests will report the error", backend.start_error)
