"""One way in for a chat turn, shared by POST /api/chat (and the widget, which uses it) and the Gradio
chat: the message's length, the per-app quota, the message's embedding ahead of the queue, and the
turn gate. Built once per app by ``ui.service.Backend``; nothing here is global.

The gate lets at most ``engine_concurrency`` turns understand and retrieve at once, in arrival
order: on a small machine more parallel turns only share the CPU, the GIL and the database (every
turn gets slower, the tail much slower). REST requests wait for it in the event loop, Gradio
handlers in their worker thread; both queue in one FIFO line.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool

from assistant.errors import DataError
from assistant.events import Done, Event, Products, TextDelta
from assistant.ratelimit import ChatLimits, Decision

# The engine's events up to and including the first of these end a turn's CPU-heavy head.
HEAD_END = (Products, TextDelta, Done)
GATE_HOLD_S = 1.0  # a head slower than this (a model's first token, a stuck tool) stops blocking others

Stream = Callable[[str, str, str | None, str | None], Iterator[Event]]


def head(events: Iterator[Event]) -> list[Event]:
    """Pull the turn's events up to the product cards (or the first text)."""
    out: list[Event] = []
    for ev in events:
        out.append(ev)
        if isinstance(ev, HEAD_END):
            break
    return out


@dataclass(eq=False)
class _Waiter:
    wake: Callable[[], object]
    granted: bool = False


@dataclass
class TurnGate:
    """A FIFO semaphore that coroutines and threads wait on alike. A slot is handed straight to the
    next waiter on release, so a late arrival can never overtake the line."""

    n: int
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _line: deque[_Waiter] = field(default_factory=deque, init=False, repr=False)
    _free: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._free = self.n

    def _enter(self, waiter: _Waiter) -> bool:
        with self._lock:
            if self._free > 0 and not self._line:
                self._free -= 1
                return True
            self._line.append(waiter)
            return False

    def _release(self) -> None:
        with self._lock:
            if not self._line:
                self._free += 1
                return
            nxt = self._line.popleft()
            nxt.granted = True
        nxt.wake()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Held]:
        """Wait in the event loop. A request that goes away while waiting leaves the line."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        waiter = _Waiter(lambda: loop.call_soon_threadsafe(_resolve, fut))
        if not self._enter(waiter):
            try:
                await fut
            except asyncio.CancelledError:
                with self._lock:
                    granted = waiter.granted
                    if not granted:
                        self._line.remove(waiter)
                if granted:  # the slot arrived as we left: pass it on
                    self._release()
                raise
        held = Held(self._release)
        try:
            yield held
        finally:
            held.release()

    @contextlib.contextmanager
    def hold(self) -> Iterator[Held]:
        """Wait in this (worker) thread."""
        ready = threading.Event()
        if not self._enter(_Waiter(ready.set)):
            ready.wait()
        held = Held(self._release)
        try:
            yield held
        finally:
            held.release()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Held:
    """A slot of the gate; released once, by whichever comes first: the head, GATE_HOLD_S, an error."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()

    async def pull(self, work: Awaitable[list[Event]]) -> list[Event]:
        task = asyncio.ensure_future(work)
        try:
            await asyncio.wait({task}, timeout=GATE_HOLD_S)
        finally:
            self.release()
        return await task

    def pull_blocking(self, work: Callable[[], list[Event]]) -> list[Event]:
        timer = threading.Timer(GATE_HOLD_S, self.release)
        timer.daemon = True
        timer.start()
        try:
            return work()
        finally:
            timer.cancel()
            self.release()


class Admission:
    """Length, quota, pre-embedding and the gate, in that order, for every chat channel."""

    def __init__(
        self,
        max_chars: int,
        limits: ChatLimits,
        concurrency: int,
        prepare: Callable[[str], None],
        stream: Stream,
    ) -> None:
        self.max_chars = max_chars
        self.limits = limits
        self.gate = TurnGate(concurrency)
        self._prepare = prepare
        self._stream = stream

    def check_length(self, text: str) -> None:
        if len(text) > self.max_chars:
            raise DataError(
                f"message is {len(text)} characters; the limit is {self.max_chars}: send a shorter one"
            )

    def quota(self, session_id: str, address: str | None) -> Decision:
        """The app's one chat quota: switching channel buys no turns."""
        return self.limits.check(session_id, address)

    async def start(
        self, session_id: str, text: str, customer_id: str | None, client_id: str | None
    ) -> tuple[list[Event], Iterator[Event]]:
        """The turn's head (pulled inside the gate, so 'busy' and bad input raise here, before any
        byte is sent) and the rest of its events (generation streams outside the gate)."""
        # Embedding needs no session state and no slot: messages that arrive together (or wait for
        # the gate) share one forward pass, which is what keeps up with bursts.
        await run_in_threadpool(self._prepare, text)
        async with self.gate.turn() as held:
            events = await run_in_threadpool(self._stream, session_id, text, customer_id, client_id)
            return await held.pull(run_in_threadpool(head, events)), events

    def start_blocking(
        self, session_id: str, text: str, customer_id: str | None, client_id: str | None
    ) -> tuple[list[Event], Iterator[Event]]:
        """``start`` for a caller on a worker thread (the Gradio chat)."""
        self._prepare(text)
        with self.gate.hold() as held:
            events = self._stream(session_id, text, customer_id, client_id)
            return held.pull_blocking(lambda: head(events)), events
