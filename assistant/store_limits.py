"""Rate-limit windows in the shop database, so every Aisle process on one database shares one quota.

Two processes behind one address each counting in memory would let a client through at twice the
rate. Here an admission is a row (scope, hashed key, time): a request is admitted by inserting its
row first and counting the window after, and withdrawn when the count is over the limit. That order
never admits more than the limit; a burst that arrives at once past it may be refused as a whole
(each refusal says to retry in a second or more). A mixin of ``Store``, which supplies ``tx``.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.schema import RateHit


def hashed_key(key: str) -> str:
    """Rows never hold a client address or session id (they are personal data in some places)."""
    return hashlib.sha256(f"aisle-rate:{key}".encode()).hexdigest()


class _Transactions(Protocol):
    def tx(self) -> AbstractContextManager[Session]: ...


class RateWindows:
    """``rate_window`` and ``rate_admit``, mixed into ``Store``."""

    def rate_window(self: _Transactions, scope: str, key: str, since: float) -> tuple[int, float | None]:
        """How many admissions ``key`` has in ``scope`` after ``since``, and the oldest one's time."""
        with self.tx() as s:
            row = s.execute(
                select(func.count(), func.min(RateHit.ts)).where(
                    RateHit.scope == scope, RateHit.key == hashed_key(key), RateHit.ts > since
                )
            ).one()
        return int(row[0]), (float(row[1]) if row[1] is not None else None)

    def rate_admit(
        self: _Transactions, scope: str, key: str, now: float, window_s: float, limit: int
    ) -> tuple[bool, float | None]:
        """Admit one request of ``key`` at ``now`` if the window holds fewer than ``limit``; returns
        (admitted, the oldest admission in the window)."""
        k = hashed_key(key)
        with self.tx() as s:  # committed before counting: other processes' rows are then visible
            stale = RateHit.ts <= now - window_s
            s.execute(delete(RateHit).where(RateHit.scope == scope, RateHit.key == k, stale))
            hit = RateHit(scope=scope, key=k, ts=now)
            s.add(hit)
            s.flush()
            row_id = hit.id
        with self.tx() as s:
            seen = s.execute(
                select(func.count(), func.min(RateHit.ts)).where(
                    RateHit.scope == scope, RateHit.key == k, RateHit.ts > now - window_s
                )
            ).one()
            # Counting every row, later ones included: of any set of admitted requests, the one that
            # counted last saw all of them, so at most ``limit`` are ever admitted.
            if int(seen[0]) <= limit:
                return True, float(seen[1])
            s.execute(delete(RateHit).where(RateHit.id == row_id))
        return False, float(seen[1])
