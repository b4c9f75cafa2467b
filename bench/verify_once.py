"""Verify one audit trail in a fresh process, as ``lianfang audit verify`` does, and print the time.

``python -m bench.verify_once URL KEYFILE`` prints one JSON object: seconds, records,
workers, ok. The access benchmark runs it in a child process so that verification's
worker processes start as they do under the command line: ``spawn`` imports the main
module of the process again in every worker, and the command line's (``lianfang``'s
``__main__``) is skipped, while the benchmark's own (every section of it) is not.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(url: str, key_file: str) -> None:
    from lianfang.audit import Audit
    from lianfang.crypto.keys import load_key_file
    from lianfang.standard import load_standard
    from lianfang.store.engine import make_engine
    from lianfang.store.schema import build_metadata

    engine = make_engine(url)
    audit = Audit(engine, load_key_file(Path(key_file)), build_metadata(load_standard()))
    start = time.perf_counter()
    report = audit.verify()
    seconds = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"seconds": seconds, "records": report.records, "workers": report.workers,
                      "ok": report.ok}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
