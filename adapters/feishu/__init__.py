"""Feishu / Lark (飞书): HTTP event subscription and long connection via lark-oapi, im.v1 outbound, org sync."""
