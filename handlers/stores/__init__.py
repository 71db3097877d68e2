"""Retail stores (part D): per-store daily health (人效 / 货效 / 场效 / 转化), shelf photos against the planogram,
Wi-Fi dwell, weather, and fix cards in chat. Domain logic lives in the modules beside this one; chat commands apart.
"""
