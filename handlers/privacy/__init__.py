"""Privacy operations on stored data: erasing one customer's words and audio on request (`salespulse forget`).
Domain logic lives in forget.py; the command line in bot/cli/forget.py."""
