"""What translating log lines costs (bot/logsetup.py): per emitted line, and on the hot path.

    python -m bench.logs --json

Three numbers per formatter, each the median of `runs` timed loops of `n` calls (µs per call):
- filtered: `log.info(...)` on a logger set to WARNING — what a hot-path debug/info call costs when the admin's
  level hides it. The formatter is never reached, so this must be the same whatever the formatter.
- emitted: `log.warning(...)` written through a StreamHandler to an in-memory stream — a line the admin sees.
- format: formatter.format(record) alone, for a template in the catalog.
The formatters: the former plain `logging.Formatter` (baseline), TextFormatter / JsonFormatter with en (no catalog)
and with zh-CN (template looked up, checked against the args, record copied, level name translated).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import time

from bot.logsetup import TEXT_FORMAT, JsonFormatter, TextFormatter

TEMPLATE = "send %s failed (attempt %d): %s"
ARGS = ("wecom:r1:42", 2, "HTTP 503")


def _per_call_us(fn, n: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n * 1e6)
    return round(statistics.median(times), 3)


def measure(formatter: logging.Formatter, n: int, runs: int) -> dict[str, float]:
    logger = logging.getLogger("salespulse.bench_logs")
    logger.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    logger.handlers = [handler]
    record = logging.LogRecord(logger.name, logging.WARNING, __file__, 1, TEMPLATE, ARGS, None)
    try:
        logger.setLevel(logging.WARNING)
        filtered = _per_call_us(lambda: logger.info(TEMPLATE, *ARGS), n * 10, runs)
        emitted = _per_call_us(lambda: logger.warning(TEMPLATE, *ARGS), n, runs)
        alone = _per_call_us(lambda: formatter.format(record), n, runs)
    finally:
        logger.handlers = []
    return {"filtered_us": filtered, "emitted_us": emitted, "format_us": alone}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="calls per timed loop")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    formatters = {
        "plain (before)": logging.Formatter(TEXT_FORMAT),
        "text en": TextFormatter("en"),
        "text zh-CN": TextFormatter("zh-CN"),
        "json en": JsonFormatter("en"),
        "json zh-CN": JsonFormatter("zh-CN"),
    }
    result = {"n": args.n, "runs": args.runs, "template": TEMPLATE,
              "formatters": {name: measure(f, args.n, args.runs) for name, f in formatters.items()}}
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
