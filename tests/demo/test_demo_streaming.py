"""Streaming: a medium-like run with explicit counts stays within ~200 MB peak RSS.

The child measures its own peak. On Linux ``getrusage``'s ``ru_maxrss`` survives
``exec``: a child forked from this (large) pytest process starts out reporting the
parent's peak, so the child reads ``VmHWM`` (the peak of its own address space) from
``/proc/self/status`` where it exists and falls back to ``ru_maxrss`` elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, resource, sys
from pathlib import Path
from lianfang.demo import Scale, generate
stages = {}
def progress(stage, done, total):
    stages[stage] = (done, total)
scale = Scale(persons=3_000, vehicles=1_500, sightings=12_500, cases=200, alerts=20, help_requests=200,
              devices=60)
manifest = generate(Path(sys.argv[1]), seed=11, scale=scale, progress=progress)
def peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rss_mb": peak_mb(),
                  "sightings": sum(c.get("sighting", 0) for c in manifest.expected.values()),
                  "stages": stages}))
"""


def test_two_hundred_thousand_sightings_in_bounded_memory(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "out")], capture_output=True,
                          text=True, check=True, timeout=600)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["rss_mb"] < 200, report
    assert report["sightings"] > 190_000
    stages = report["stages"]
    assert stages["sightings"] == [200_000, 200_000]
    assert {"reference", "persons", "vehicles", "cases", "alerts", "help_requests", "manifest"} <= set(stages)
