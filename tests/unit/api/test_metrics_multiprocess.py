"""With PROMETHEUS_MULTIPROC_DIR (``serve --workers N``) figures of every process add up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Two "processes" write their figures; a third renders. prometheus_client picks its storage
# when it is imported, so each runs in an interpreter of its own.
WRITE = """
from hongbao.entrypoints.ops.metrics import Metrics
metrics = Metrics()
assert metrics.multiprocess
metrics.observe_request("POST", "/v1/packets", 201, 0.004, ("iPhone 14 Pro", "ios"))
metrics.degraded.set(1)
"""
RENDER = """
from prometheus_client.registry import Collector
from hongbao.entrypoints.ops.metrics import Metrics

class NoBacklog(Collector):
    def collect(self):
        return []

print(Metrics().render(NoBacklog()).decode())
"""
CLEAR = "from hongbao.entrypoints.ops.metrics import clear_multiprocess_directory as c; c()"


def python(code: str, directory: Path) -> str:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(  # noqa: S603 - this interpreter and our own code
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_scrape_adds_up_the_figures_of_every_process_and_a_new_run_starts_empty(
    tmp_path: Path,
) -> None:
    python(WRITE, tmp_path)
    python(WRITE, tmp_path)
    text = python(RENDER, tmp_path)
    labels = '{method="POST",route="/v1/packets",status="201"}'
    count = f"hongbao_http_request_duration_seconds_count{labels}"
    assert f"{count} 2.0" in text
    assert (
        'hongbao_device_requests_total{model="iPhone 14 Pro",outcome="success",platform="ios"} 2.0'
        in text
    )
    assert "hongbao_degraded 1.0" in text
    python(CLEAR, tmp_path)
    assert list(tmp_path.glob("*.db")) == []
