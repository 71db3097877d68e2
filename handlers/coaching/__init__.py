"""Top-seller experience made repeatable (part B of the spec): golden snippets cut from conversations, their
outcomes and Beta-Binomial weights, live similar-scene pushes, the "再比较一下" check, and the chat commands.

Modules: snippets.py (extraction), outcomes.py (outcomes, shrinkage), ranking.py, masking.py, library.py (the
API other capabilities use), live.py (push + B7 check observer), sweep.py (periodic filing and weights),
commands.py, chart.py, texts.py, runtime.py (settings).
"""

from bot.context import Services
from bot.router import Router
from handlers.coaching import commands, live, sweep
from handlers.coaching.runtime import EXTRA, build

router = Router("coaching")
router.include(live.router, sweep.router, commands.router)


def setup(services: Services) -> None:
    services.extras[EXTRA] = build(services)


__all__ = ["router", "setup"]
