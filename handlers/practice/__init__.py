"""The objection practice sandbox (issue 10 §3): /陪练 starts a role-play against a virtual customer built from
the team's real objections; each answer is scored against the best snippets and advised; /结束 or idleness ends
it with a score card. Domain: sandbox (plan, rounds, score card) and scoring; chat: commands."""

from handlers.practice.commands import router

__all__ = ["router"]
