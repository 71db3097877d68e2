"""Named points where a long job can be killed on purpose, so tests can prove that re-running it after a SIGKILL
ends in the same state as an uninterrupted run.

`SALESPULSE_CRASH_AT=<point>:<n>` (read once, at import) makes the process SIGKILL itself the n-th time it reaches
`<point>`. Unset — always, outside tests — `reached()` is one global check. Points: `import.row` (a row of any
import or replay, inside its transaction: archive, deals, calls, transcripts, stores, store-daily, a Wi-Fi
store-day), `dispatch.batch` (after a dispatcher batch committed), `restore.copy`
(after the database copy, before the restore finished).
"""

from __future__ import annotations

import os
import signal

_PLAN: tuple[str, int] | None = None
_seen = 0

_raw = os.environ.get("SALESPULSE_CRASH_AT", "")
if _raw:
    _point, _, _n = _raw.rpartition(":")
    if _point and _n.isdigit():
        _PLAN = (_point, int(_n))


def reached(point: str) -> None:
    global _seen
    if _PLAN is None or _PLAN[0] != point:
        return
    _seen += 1
    if _seen >= _PLAN[1]:
        os.kill(os.getpid(), signal.SIGKILL)
