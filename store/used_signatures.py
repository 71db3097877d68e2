"""Request signatures already used (see migration 0070): the replay guard of signature schemes that do not cover
the body (DingTalk's outgoing robot)."""

from __future__ import annotations

from store.db import Store


def claim(store: Store, platform: str, signature: str, body_sha256: str, expires_at: int, now_ms: int) -> bool:
    """True the first time `signature` is presented, and again only with the same body; False for another body.

    Expired rows are dropped on the way (indexed on expires_at), so the table holds one validity window's worth."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM used_signatures WHERE expires_at < ?", (now_ms,))
        cur = conn.execute("INSERT OR IGNORE INTO used_signatures (platform, signature, body_sha256, expires_at) "
                           "VALUES (?, ?, ?, ?)", (platform, signature, body_sha256, expires_at))
        if cur.rowcount == 1:
            return True
        row = conn.execute("SELECT body_sha256 FROM used_signatures WHERE platform = ? AND signature = ?",
                           (platform, signature)).fetchone()
    return row is not None and row[0] == body_sha256


def count(store: Store, platform: str) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM used_signatures WHERE platform = ?", (platform,)).fetchone()[0]
