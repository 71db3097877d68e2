"""SalesPulse runtime: config, events, router, dispatcher, scheduler, outbox sender, CLI and the demo company."""

__version__ = "0.1.0"
