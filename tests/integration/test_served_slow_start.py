"""`fundraising serve --workers N` on a host where a worker takes long to start: uvicorn's
supervisor waits for it instead of killing and restarting it forever."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.processes import deployment

pytestmark = [pytest.mark.mysql, pytest.mark.redis]
STARTUP_DELAY_SECONDS = 8  # longer than uvicorn's default worker health check (5 s)


def test_workers_slow_to_start_are_waited_for_not_killed(tmp_path: Path) -> None:
    slow = tmp_path / "slow-start"
    slow.mkdir()
    # Python runs `sitecustomize` at start; this one delays only the spawned server workers.
    (slow / "sitecustomize.py").write_text(
        "import sys, time\n"
        f"if '--multiprocessing-fork' in sys.argv: time.sleep({STARTUP_DELAY_SECONDS})\n"
    )
    with deployment(tmp_path) as deployed:
        served = deployed.serve(workers=2, PYTHONPATH=str(slow))
        api = deployed.api()
        author = api.account("author")

        assert api.collect(author, "Подарок")["id"] > 0
        assert "died" not in served.log(), served.tail()
        assert served.log().count("Started server process") == 2, served.tail()
