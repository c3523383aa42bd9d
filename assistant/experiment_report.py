"""An experiment's report from the events: per arm exposures, CTR, add-to-cart and conversion with
95% intervals, each arm against the first (control) with a two-sided test, and a sample-ratio-
mismatch check.

The unit of randomisation is the shopper (customer, or session when anonymous), so rates that are
per shopper (add-to-cart, conversion: did this shopper add / buy) use the two-proportion z-test
and Wilson intervals; CTR is clicks over impressions, a ratio of two per-shopper sums, so its
variance comes from the delta method over shoppers (Deng et al., 2018): treating impressions as
independent would understate it and raise the false-positive rate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from assistant.experiments import Experiment, split_variant

SRM_ALPHA = 0.001  # the conventional SRM threshold: a real mismatch is rarely subtle
ALPHA = 0.05


@dataclass(frozen=True)
class Rate:
    value: float
    low: float
    high: float
    num: float
    den: float


@dataclass(frozen=True)
class ArmReport:
    arm: str
    exposures: int  # shoppers who saw at least one recommendation under this arm
    impressions: int
    ctr: Rate
    add_to_cart: Rate
    conversion: Rate
    # against the control arm (None for the control itself): difference and two-sided p-value
    diff: dict[str, float] = field(default_factory=dict)
    p_value: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    experiment: str
    arms: list[ArmReport]
    expected_shares: dict[str, float]
    srm_p: float | None
    srm: bool  # True: the exposures do not match the declared split (assignment or logging is broken)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def winner(self, metric: str = "conversion", alpha: float = ALPHA) -> str | None:
        """The arm significantly better than control on ``metric`` (the best such), else the control
        if some arm is significantly worse and none better; None when nothing is significant."""
        better = [a for a in self.arms[1:] if a.p_value.get(metric, 1.0) < alpha and a.diff[metric] > 0]
        if better:
            return max(better, key=lambda a: a.diff[metric]).arm
        worse = [a for a in self.arms[1:] if a.p_value.get(metric, 1.0) < alpha and a.diff[metric] < 0]
        return self.arms[0].arm if worse and len(worse) == len(self.arms) - 1 else None


def _norm_sf(z: float) -> float:
    from scipy.stats import norm

    return float(norm.sf(z))


def wilson(k: float, n: float, z: float = 1.959964) -> Rate:
    if n <= 0:
        return Rate(0.0, 0.0, 1.0, k, n)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Rate(p, max(0.0, centre - half), min(1.0, centre + half), k, n)


def two_proportion_p(k1: float, n1: float, k2: float, n2: float) -> float:
    """Two-sided pooled z-test of p1 == p2 (1.0 when either arm is empty or nothing varies)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return 2 * _norm_sf(abs(k1 / n1 - k2 / n2) / se)


def ratio_stats(num: Sequence[float], den: Sequence[float]) -> tuple[float, float]:
    """(ratio of sums, its delta-method variance) over units with per-unit numerator and denominator."""
    n = len(den)
    sx, sy = sum(den), sum(num)
    if n < 2 or sx <= 0:
        return (sy / sx if sx else 0.0), 0.0
    r, mx, my = sy / sx, sx / n, sy / n
    vx = sum((x - mx) ** 2 for x in den) / (n - 1)
    vy = sum((y - my) ** 2 for y in num) / (n - 1)
    cxy = sum((x - mx) * (y - my) for x, y in zip(den, num, strict=True)) / (n - 1)
    return r, max((vy - 2 * r * cxy + r * r * vx) / (n * mx * mx), 0.0)


def srm_p(counts: Sequence[int], shares: Sequence[float]) -> float | None:
    """Chi-square goodness of fit of the observed exposures to the declared traffic shares."""
    total = sum(counts)
    if total == 0:
        return None
    from scipy.stats import chisquare

    expected = [s * total for s in shares]
    return float(chisquare(list(counts), expected).pvalue)


@dataclass
class _Unit:
    impressions: int = 0
    clicks: int = 0
    cart: bool = False
    purchase: bool = False


def units_by_arm(events: Iterable[Mapping[str, Any]], experiment: str) -> dict[str, dict[str, _Unit]]:
    """{arm: {shopper: counts}}; a shopper is exposed from their first impression under the arm, and
    only their actions under the same arm count (a click logged before any impression is kept too:
    the shopper may have come from a list shown by another channel)."""
    out: dict[str, dict[str, _Unit]] = defaultdict(dict)
    for ev in events:
        pair = split_variant(ev.get("variant"))
        if pair is None or pair[0] != experiment:
            continue
        unit = str(ev.get("customer_id") or ev.get("session_id") or "")
        if not unit:
            continue
        u = out[pair[1]].setdefault(unit, _Unit())
        kind = ev.get("kind")
        if kind == "impression":
            u.impressions += 1
        elif kind == "click":
            u.clicks += 1
        elif kind == "cart":
            u.cart = True
        elif kind == "purchase":
            u.purchase = True
    return out


def _arm_report(name: str, units: Mapping[str, _Unit]) -> tuple[ArmReport, tuple[float, float]]:
    exposed = [u for u in units.values() if u.impressions > 0]
    n = len(exposed)
    r, var = ratio_stats([u.clicks for u in exposed], [u.impressions for u in exposed])
    half = 1.959964 * math.sqrt(var)
    clicks = sum(u.clicks for u in exposed)
    imps = sum(u.impressions for u in exposed)
    ctr = Rate(r, max(0.0, r - half), min(1.0, r + half), clicks, imps)
    rep = ArmReport(
        name,
        n,
        imps,
        ctr,
        wilson(sum(u.cart for u in exposed), n),
        wilson(sum(u.purchase for u in exposed), n),
    )
    return rep, (r, var)


def report(events: Iterable[Mapping[str, Any]], experiment: Experiment) -> Report:
    by_arm = units_by_arm(events, experiment.name)
    built = [_arm_report(a, by_arm.get(a, {})) for a in experiment.arm_names]
    control, (r0, v0) = built[0]
    arms = [control]
    for rep, (r1, v1) in built[1:]:
        diff = {
            "ctr": r1 - r0,
            "add_to_cart": rep.add_to_cart.value - control.add_to_cart.value,
            "conversion": rep.conversion.value - control.conversion.value,
        }
        se = math.sqrt(v0 + v1)
        enough = min(control.exposures, rep.exposures) >= 2  # no test against an (almost) empty arm
        p = {
            "ctr": 2 * _norm_sf(abs(r1 - r0) / se) if se > 0 and enough else 1.0,
            "add_to_cart": two_proportion_p(
                control.add_to_cart.num, control.add_to_cart.den, rep.add_to_cart.num, rep.add_to_cart.den
            ),
            "conversion": two_proportion_p(
                control.conversion.num, control.conversion.den, rep.conversion.num, rep.conversion.den
            ),
        }
        arms.append(replace(rep, diff=diff, p_value=p))
    shares = experiment.shares()
    sp = srm_p([a.exposures for a in arms], [shares[a.arm] for a in arms])
    return Report(experiment.name, arms, shares, sp, sp is not None and sp < SRM_ALPHA)


def summary_lines(rep: Report) -> list[str]:
    """The report as a few lines of text (the CLI, the console's note)."""
    out = [f"experiment {rep.experiment}"]
    for a in rep.arms:
        rates = "  ".join(
            f"{label} {r.value:.3f} [{r.low:.3f}, {r.high:.3f}]"
            for label, r in (("CTR", a.ctr), ("cart", a.add_to_cart), ("conv", a.conversion))
        )
        line = f"  {a.arm:<10} exposures {a.exposures:>5}  {rates}"
        if a.p_value:
            line += "  p " + ", ".join(f"{k} {v:.3g}" for k, v in a.p_value.items())
        out.append(line)
    if rep.srm:
        out.append(
            f"  WARNING sample ratio mismatch (p = {rep.srm_p:.2g} < {SRM_ALPHA}): check assignment/logging"
        )
    return out
