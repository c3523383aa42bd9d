"""What a load reports: bad rows (row number, field, reason) and notes about what it assumed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    row: int  # 1-based data row (or line, for JSONL)
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.message}"


@dataclass
class LoadReport:
    source: str
    loaded: int = 0
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the load assumed or merged, said once each
    warnings: list[Issue] = field(default_factory=list)  # rows kept, with a value changed (cut to a limit)

    @property
    def skipped(self) -> int:
        return len({i.row for i in self.issues})

    def summary(self, limit: int = 10) -> str:
        head = f"{self.source}: {self.loaded} loaded, {self.skipped} rows skipped"
        lines = [head] + [f"  note: {n}" for n in self.notes] + [f"  {i}" for i in self.issues[:limit]]
        if len(self.issues) > limit:
            lines.append(f"  ... and {len(self.issues) - limit} more issues")
        lines += [f"  kept {w}" for w in self.warnings[:limit]]
        if len(self.warnings) > limit:
            lines.append(f"  ... and {len(self.warnings) - limit} more values cut to their limits")
        return "\n".join(lines)
