"""Running wrk and reading its figures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.report import Row

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _percentile(output: str, percent: int) -> float | None:
    """A latency percentile of wrk's --latency table in ms; None when wrk printed none."""
    found = re.search(rf"{percent}%\s+([\d.]+)(us|ms|s|m)\b", output)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else None


def run_wrk(
    name: str,
    url: str,
    duration: int,
    connections: int,
    *,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: list[str] | None = None,
    warm: bool = False,
) -> Row:
    base = ["wrk", "-t2", f"-c{connections}", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        base += ["-H", f"{key}: {value}"]
    if script:
        base += ["-s", str(script)]
    if warm:  # fill the cache first: the scenario measures hits
        subprocess.run(
            [*base, "-d2s", url, *(["--", *script_args] if script_args else [])],
            check=True,
            capture_output=True,
        )
    command = [*base, f"-d{duration}s", url]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50, p99 = _percentile(output, 50), _percentile(output, 99)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    wrong = re.search(r"NOT_2\d\d (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    if wrong:
        errors = max(errors, int(wrong.group(1)))
    return Row(name, rps=rps, p50_ms=p50, p99_ms=p99, errors=errors)
