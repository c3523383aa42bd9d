"""One Settings object, built at the edge (CLI, server, tests) and passed in.

Sources, highest priority first: keyword arguments, ``AISLE_*`` environment variables,
an optional TOML file (``AISLE_CONFIG`` or ``./aisle.toml``), then the defaults below.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.errors import ConfigError

Backend = Literal["llama", "transformers", "openai", "template", "fake"]
BACKENDS: tuple[str, ...] = ("llama", "transformers", "openai", "template", "fake")
# Friendly names for the packaged GGUF models; any other value is a path to a .gguf file.
MODEL_ALIASES: tuple[str, ...] = ("default", "fast", "test")
# Public strings: fine for the demo on 127.0.0.1, refused by `aisle run` on any other host.
DEMO_AGENT_TOKEN = "agent-demo-token"
DEMO_ADMIN_TOKEN = "admin-demo-token"


def _default_cache() -> Path:
    # Outside the checkout so that a fresh clone (and CI) reuses the built wheel and assembled GGUF.
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aisle"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AISLE_", extra="forbid", validate_default=True)

    data_dir: Path = Field(
        default=Path(".aisle"), description="Where the database, indexes and fitted models live."
    )
    experiments_file: Path | None = Field(
        default=None,
        description="Experiments to serve (TOML, JSON or YAML; see docs/insights.md); default "
        "<data_dir>/experiments.toml when it exists.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache, description="Model cache: assembled GGUF, built wheels."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/aisle.db"
    )

    chroma_mode: Literal["embedded", "server"] = "embedded"
    chroma_path: Path | None = Field(
        default=None, description="Embedded Chroma folder; default <data_dir>/chroma"
    )
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000

    embedder: str = Field(
        default="minilm",
        description="'minilm' (packaged all-MiniLM-L6-v2), 'hashing' (fast fake for tests), "
        "a local directory, or a hub id.",
    )

    generator_backend: Backend = "llama"
    generator_model: str = Field(
        default="default",
        description="'default' (Qwen2.5-Coder-1.5B), 'fast' (0.5B), 'test' (SmolLM2-135M) "
        "or a .gguf path / hub id.",
    )
    llama_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="1 keeps llama.cpp fast when the web server and embedder share the CPU.",
    )
    llama_ctx: int = Field(default=4096, ge=512)
    generation_timeout_s: float = Field(default=30.0, gt=0)
    generation_queue: int = Field(
        default=4, ge=1, description="Concurrent generations allowed to wait; beyond it clients get 'busy'."
    )
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "default"
    # Off by default: on the hand-labelled dev sets the cascade scored below the parser alone (slot F1
    # 0.729 vs 0.849, budgets 0.87 vs 0.93; docs/bench/nlu.md), and it costs ~4 s a message.
    nlu_llm: Literal["auto", "on", "off"] = Field(
        default="off",
        description="The local LLM as second reader of unsure messages (grammar-constrained JSON commands): "
        "'on' (needs a GGUF model), 'off', or 'auto' = on when the generator backend is llama.",
    )
    nlu_llm_model: str = Field(
        default="default", description="GGUF for the LLM command path: an alias or a path."
    )
    parser_path: Path | None = Field(
        default=None,
        description="The trained command parser (`aisle train parser`); default <data_dir>/parser when it "
        "exists, else the packaged demo-shop parser.",
    )
    nlu_threads: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Torch threads per parse; 1 keeps latency steady when turns run concurrently.",
    )
    inference_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Intra-op threads of torch and BLAS for request-time inference (query embeddings, "
        "recommender scoring) in this process; 1 keeps latency steady when other work shares the cores "
        "(pools that spin slow 20-40x under contention; docs/bench/contention.md).",
    )
    shop_now: datetime | None = Field(
        default=None,
        description="The shop's 'now' for date rules such as the return window; default: the demo manifest's "
        "date when the catalog is the demo shop, else the real clock.",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    agent_token: SecretStr = SecretStr(DEMO_AGENT_TOKEN)
    admin_token: SecretStr = SecretStr(DEMO_ADMIN_TOKEN)
    demo_mode: bool = Field(
        default=False,
        description="The demo shop's 'sign in as a demo customer' (no credential), for loopback clients "
        "only. `make run` turns it on (aisle run --demo); never use it for a real shop.",
    )
    shop_secret: SecretStr | None = Field(
        default=None,
        description="Key the shop's backend signs customer tokens with (HS256 JWT, see docs/security.md); "
        "at least 32 characters. Unset: a random one is generated into <data_dir>/shop-secret (mode 0600).",
    )
    customer_token_max_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="Longest lifetime (exp - iat) a customer token may have; "
        "longer-lived tokens are refused.",
    )
    shop_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts (e.g. shop.example.com) that shown text may link to; every other link, image or "
        "URL in reviews, catalog or model text is neutralised before it is rendered.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get HTTP 413.")
    rate_limit_per_minute: int = Field(default=30, ge=1)
    rate_limit_login_per_minute: int = Field(default=10, ge=1, description="Sign-ins per client address.")
    rate_limit_api_per_minute: int = Field(
        default=120,
        ge=1,
        description="Events, searches, recommendations and new sessions per client address.",
    )
    rate_limit_store: Literal["memory", "database"] = Field(
        default="memory",
        description="Where rate-limit windows are counted: 'memory' (one process) or 'database' (the "
        "shop database, so several Aisle processes behind one address share one quota).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses (or *) whose X-Forwarded-For header names the shopper's "
        "address for the per-address rate limit; other clients' headers are ignored (spoofable).",
    )
    max_message_chars: int = Field(default=4000, ge=1)
    engine_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Chat turns the web server runs through understanding and retrieval at once; the rest "
        "wait in arrival order (more only adds CPU and database contention on a small machine).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("AISLE_CONFIG", "aisle.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(v)
        except ArgumentError:
            raise ValueError(
                f"malformed database URL {v!r}: use e.g. sqlite:///path/aisle.db or "
                "postgresql+psycopg://user:pass@host/db (AISLE_DATABASE_URL)"
            ) from None
        if not url.drivername.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"unsupported database {url.drivername!r}: use sqlite:/// or postgresql+psycopg://"
            )
        return v

    @field_validator("shop_secret")
    @classmethod
    def _check_secret(cls, v: SecretStr | None) -> SecretStr | None:
        # A short key can be brute-forced offline from one token: then anyone can sign in as anyone.
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError(
                "the shop secret is too short: use at least 32 random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) in AISLE_SHOP_SECRET"
            )
        return v

    @field_validator("shop_hosts")
    @classmethod
    def _check_hosts(cls, v: list[str]) -> list[str]:
        return [h.strip().lower().rstrip(".") for h in v if h.strip()]

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        if self.chroma_path is None:
            self.chroma_path = self.data_dir / "chroma"
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'aisle.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create the data directory, or fail with a one-line error naming the fix."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"data dir {str(self.data_dir)!r} is not writable ({exc.strerror}): "
                "set AISLE_DATA_DIR to a writable folder"
            ) from None
        return self.data_dir


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning pydantic's multi-line report into one line that names the fix."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "settings"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "literal_error" and loc == "generator_backend":
                msg = (
                    f"unknown backend {err.get('input')!r}: choose one of {', '.join(BACKENDS)} "
                    "(AISLE_GENERATOR_BACKEND)"
                )
            elif err["type"] == "extra_forbidden":
                msg = f"unknown setting {loc!r}: check the spelling against `aisle doctor` output"
            parts.append(f"{loc}: {msg}")
        raise ConfigError("; ".join(parts)) from None
