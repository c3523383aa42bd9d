"""Staff tokens (agent, admin) kept only as SHA-256 digests and compared in constant time.

The server hashes the configured tokens once at start; a request's token is hashed and compared
against every digest with ``hmac.compare_digest`` (no early exit, no length leak), so neither a
memory dump of the router nor response timing reveals a token.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["TokenDigests", "digest"]


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenDigests:
    def __init__(self, *tokens: str) -> None:
        self._digests = tuple(digest(t) for t in tokens if t)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenDigests:
        return cls(settings.agent_token.get_secret_value(), settings.admin_token.get_secret_value())

    def ok(self, given: str | None) -> bool:
        if not given:
            return False
        d = digest(given)
        found = False
        for h in self._digests:  # check all of them: the time does not depend on which one matched
            found |= hmac.compare_digest(d, h)
        return found

    def __repr__(self) -> str:
        return f"TokenDigests({len(self._digests)} sha256 digests)"
