"""`salespulse init`: set a real team up in minutes (issue 13, "Set-up in minutes").

Why its own package: the questions, the checks against the platform, the bot.toml filling and the org import are
domain logic that tests drive without a terminal; only flow.py talks to the input/output streams, and
bot/cli/init.py only turns command-line flags into answers.

- platforms.py — what each platform needs (bot.toml keys, flags, checks on the typed value) and which mode
  needs a public URL;
- checks.py — fetch one token per platform (WeCom gettoken, DingTalk accessToken, Feishu
  tenant_access_token/internal) and turn the platform's error code into a sentence and the field to ask again;
- bottoml.py — fill the repository's commented bot.toml (comments stay) and drop its sample people;
- org_import.py — run the adapters' own org sync once into the new database;
- steps.py — the callback URL(s) and the console steps left, per platform and mode;
- flow.py — the question loop (interactive, or `--yes` with every answer given).
"""
