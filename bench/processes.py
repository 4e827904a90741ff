"""Starting and stopping the processes under test, and reading their memory."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def start(
    command: list[str], env: dict[str, str], *, ready: str | None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `command`; its output goes to `log` (written as in production), else nowhere."""
    with log.open("ab") if log else open(os.devnull, "wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while ready and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(ready, timeout=1):
                return process
        except (urllib.error.URLError, OSError):
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}") from None
            time.sleep(0.2)
    if ready:
        stop(process)
        raise RuntimeError(f"{command} did not answer at {ready}")
    time.sleep(2)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def rss_mib(pid: int, *, peak: bool = False) -> float:
    """A process's resident memory in MiB, now or at its highest (`peak`)."""
    field = "VmHWM:" if peak else "VmRSS:"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def workers(port: int) -> list[int]:
    """The worker processes of the server started with `--port PORT`."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
        and _parent_serves(int(entry.name), port)
        and b"resource_tracker" not in Path(f"/proc/{entry.name}/cmdline").read_bytes()
    ]


def rss_of_workers(port: int, *, peak: bool = False) -> list[float]:
    """RSS in MiB of the worker processes of the server started with `--port PORT`."""
    return sorted(rss_mib(pid, peak=peak) for pid in workers(port))


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) the processes have used so far: unlike a rate, not
    moved by what else the machine runs meanwhile."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: the 14th and 15th fields
    return ticks / os.sysconf("SC_CLK_TCK")


def _parent_serves(pid: int, port: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        command = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return False
    return b"--port" in command and str(port).encode() in command
