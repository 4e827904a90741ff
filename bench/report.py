"""The bench's results, and the table that prints them with their ratios to the ceilings."""

from __future__ import annotations

from dataclasses import dataclass, field

READ_CEILING = "bare Litestar JSON handler (read ceiling)"
WRITE_CEILING = "donation transaction through PyMySQL, 32 threads (write ceiling)"


@dataclass
class Row:
    name: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    rss: list[float] = field(default_factory=list)  # MiB per server worker after the run
    note: str = ""


def _ratio(row: Row, rows: list[Row]) -> str:
    ceiling_name = WRITE_CEILING if "POST payment" in row.name else READ_CEILING
    ceiling = next((r for r in rows if r.name == ceiling_name), None)
    if row.rps is None or ceiling is None or not ceiling.rps or row.name == ceiling_name:
        return ""
    if "GET" not in row.name and "POST payment" not in row.name:
        return ""
    return f"{row.rps / ceiling.rps:.0%}"


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    header = ["scenario", "req/s", "vs ceiling", "p50 ms", "p99 ms", "errors", "RSS/worker MiB"]
    lines = [
        [
            row.name,
            _number(row.rps),
            _ratio(row, rows),
            _number(row.p50_ms, 2),
            _number(row.p99_ms, 2),
            "" if row.errors is None else str(row.errors),
            " / ".join(f"{mib:.0f}" for mib in row.rss),
        ]
        for row in rows
    ]
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row, line in zip(rows, lines, strict=True):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if row.note:
            out.append(f"|   ↳ {row.note}")
    return "\n".join(out)
