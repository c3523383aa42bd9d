"""Shared helpers for the reliability tests (no tests here): a real server in a subprocess.

The server is ``ui.api.create_app`` under uvicorn, on a free loopback port, over a SQLite file in
the test's folder, with the engine's demo wiring (real store, policy, tools, grounding; the packaged
parser, or with ``T_READER=keywords`` a keyword reader for tests whose subject is not the reading:
loading the parser costs a server several seconds; a chat model chosen by env). Started and stopped
by PID only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

SERVER = r"""
import os, sys, uvicorn
from assistant.fakes import demo_assistant
from assistant.generate.base import FakeChatModel
from assistant.settings import Settings
from ui.api import create_app

data = os.environ["T_DATA"]
delay = float(os.environ.get("T_DELAY", "0"))
model = (FakeChatModel(["Here are some options from the shop for you today."], delay_s=delay)
         if delay else None)
if os.environ.get("T_MODEL"):  # a real llama.cpp model (benchmarks only; tests never set it)
    from assistant.generate.base import make_chat_model
    model = make_chat_model(Settings(generator_backend="llama", generator_model=os.environ["T_MODEL"]))
reader = None
if os.environ.get("T_READER") == "keywords":
    from assistant.fakes import ScriptedReader
    from assistant.nlu.commands import FindProducts, PolicyQuestion
    from knowledge.constraints import Constraints

    def keywords(text):
        for word, cat in (("headphones", "Headphones"), ("shoes", "Shoes")):
            if word in text:
                return [FindProducts(text, Constraints(categories=(cat,)))]
        return [PolicyQuestion(text, topic="returns")] if "return" in text else []  # [] : out of scope

    reader = ScriptedReader(keywords)
engine = demo_assistant(f"sqlite:///{data}/aisle.db", model, queue_size=int(os.environ.get("T_QUEUE", "64")),
                        timeout_s=float(os.environ.get("T_TIMEOUT", "30")), reader=reader)
settings = Settings(data_dir=data, generator_backend="template", embedder="hashing",
                    rate_limit_per_minute=int(os.environ.get("T_RATE", "100000")),
                    rate_limit_api_per_minute=100000)
app = create_app(settings, engine, store=engine.store, with_ui=False)
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["T_PORT"]), log_level="warning")
"""


class Server:
    def __init__(self, data_dir: Path, **env: str) -> None:
        from aisle.bench.server import free_port

        self.data_dir, self.env = data_dir, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> Server:
        import httpx

        env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
        env.update(
            {
                "T_DATA": str(self.data_dir),
                "T_PORT": str(self.port),
                "PYTHONPATH": str(REPO),
                "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1",
                **self.env,
            }
        )
        self.log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=self.data_dir, env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server died: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("server did not come up")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush: what a crash or an OOM kill does."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        log = getattr(self, "log", None)
        if log is not None and not log.closed:
            log.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
