"""The embedded demo company: a seeded, deterministic Chinese sales organisation and 90 days of its activity.

`generate(seed)` builds the company (bot.demo.company) and its activity timeline (bot.demo.activity);
`bot.demo.seed` writes the directory, customers and leads into a store; `bot.demo.replay` feeds the timeline
through the real pipeline in virtual time (used by `salespulse demo`, bot/cli/demo.py).

SEED_HOOKS lets other capabilities add their own demo data: "module:function" strings, each called as
`fn(store, company, rng)` once the org, customers and all leads are in the store. Entries are imported strictly
(a broken hook stops the demo with its name) so a typo never silently drops a capability's data.
"""

from __future__ import annotations

SEED_HOOKS: tuple[str, ...] = ("handlers.forecast.demo_seed:seed",)
