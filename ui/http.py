"""Request plumbing shared by the routes: who is asking, from where, how fast, and how much.

``BodyLimit`` is plain ASGI so it runs before any route reads a byte (FastAPI would turn an
exception raised while reading the body into a 400).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from assistant.identity import Identity
    from assistant.ratelimit import Decision
    from ui.service import Backend

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def slow_down_response(d: Decision) -> JSONResponse:
    from assistant.ratelimit import slow_down_message

    return JSONResponse(
        {
            "error": "slow down",
            "detail": slow_down_message(d),
            "retry_after_s": d.retry_after_s,
            "scope": d.scope,
        },
        status_code=429,
        headers={"Retry-After": str(d.retry_after_s)},
    )


class SlowDown(Exception):
    """A per-address limit refused the request; the app turns it into a 429 with Retry-After."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.scope)
        self.decision = decision


def limit(backend: Backend, kind: str, request: Request) -> None:
    d = backend.api_limits.check(kind, client_address(request))
    if not d.allowed:
        raise SlowDown(d)


def identity_dependency(backend: Backend) -> Callable[..., Identity]:
    """A FastAPI dependency: the request's Identity (staff, customer or anonymous); a token that is
    present but wrong is a 403/404, never silently anonymous."""

    def who(
        request: Request,
        authorization: str | None = Header(None),
        x_customer_token: str | None = Header(None),
        x_aisle_client: str | None = Header(
            None,
            description="Optional random per-browser key (16-128 "
            "characters); order facts are not reused across clients.",
        ),
    ) -> Identity:
        return backend.identify(
            authorization=authorization,
            customer_token=x_customer_token,
            client_key=x_aisle_client,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
        )

    return who


class BodyLimit:
    """413 for a request body over ``max_bytes``: by its Content-Length before reading, or while
    buffering a chunked body (which never reaches the app when too large)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            # The server enforces Content-Length framing, so the declared size is the size.
            if not declared.strip().isdigit() or int(declared) > self.max_bytes:
                await self._reject(send)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        buffered, size = [], 0
        while True:
            msg = await receive()
            buffered.append(msg)
            if msg["type"] != "http.request":
                break
            size += len(msg.get("body", b""))
            if size > self.max_bytes:
                await self._reject(send)
                return
            if not msg.get("more_body"):
                break
        replay = iter(buffered)

        async def again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, again, send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "request too large",
                "detail": f"the request body is over {self.max_bytes} bytes: send less "
                "(the limit is the max_body_bytes setting)",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
