"""WeCom (企业微信): app callback, outbound messages and cards, message archive, org sync.

The adapter class lives in adapters/wecom/adapter.py (registered as "wecom" in bot/app.py ADAPTERS).
"""
