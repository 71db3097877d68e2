"""Forecasts in chat: explainable win probability, calibrated interval forecasts, procurement calendar, deal
health, audited revisions and free-text notes. The router lives in commands.py."""

from handlers.forecast.commands import router, setup

__all__ = ["router", "setup"]
