"""Voice notes (handlers/voice): the note as it arrived, then its transcript; retention of audio and text."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.db import Store


@dataclass(frozen=True, slots=True)
class VoiceNote:
    message_event_id: str
    platform: str
    person_id: str
    actor_platform_id: str
    conversation_id: str
    to_bot: bool
    media_id: str
    recorded_at: int
    received_at: int
    status: str
    text: str
    source: str
    language: str
    duration_ms: int
    speech_ms: int
    pauses_ms: tuple[int, ...]
    audio_path: str
    transcript_event_id: str
    retries: int


_COLUMNS = ("message_event_id, platform, person_id, actor_platform_id, conversation_id, to_bot, media_id, recorded_at,"
            " received_at, status, text, source, language, duration_ms, speech_ms, pauses_ms, audio_path,"
            " transcript_event_id, retries")


def _note(r: tuple) -> VoiceNote:
    return VoiceNote(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                     r[14], tuple(json.loads(r[15] or "[]")), r[16], r[17], r[18])


def add(store: Store, message_event_id: str, platform: str, *, person_id: str, actor_platform_id: str,
        conversation_id: str, to_bot: bool, media_id: str, recorded_at: int, received_at: int) -> bool:
    """Record an arriving note; False when it was already recorded (a re-dispatched message)."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO voice_notes (message_event_id, platform, person_id, actor_platform_id, conversation_id,"
        " to_bot, media_id, recorded_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_event_id, platform, person_id, actor_platform_id, conversation_id, int(to_bot), media_id,
         recorded_at, received_at))
    return cur.rowcount == 1


def get(store: Store, message_event_id: str) -> VoiceNote | None:
    r = store.conn.execute(f"SELECT {_COLUMNS} FROM voice_notes WHERE message_event_id = ?",
                           (message_event_id,)).fetchone()
    return _note(r) if r else None


def record_transcript(store: Store, message_event_id: str, *, status: str, text: str, source: str, language: str,
                      duration_ms: int, speech_ms: int, pauses_ms: tuple[int, ...], audio_path: str,
                      transcript_event_id: str, now_ms: int) -> None:
    store.conn.execute(
        "UPDATE voice_notes SET status = ?, text = ?, source = ?, language = ?, duration_ms = ?, speech_ms = ?,"
        " pauses_ms = ?, audio_path = CASE WHEN ? != '' THEN ? ELSE audio_path END, transcript_event_id = ?,"
        " transcribed_at = ? WHERE message_event_id = ?",
        (status, text, source, language, duration_ms, speech_ms, json.dumps(list(pauses_ms)), audio_path, audio_path,
         transcript_event_id, now_ms, message_event_id))


def awaiting_recogniser(store: Store, since_ms: int, limit: int = 100) -> list[VoiceNote]:
    """Notes kept as audio because no recogniser was configured, newest first (re-recognised once one is)."""
    rows = store.conn.execute(
        f"SELECT {_COLUMNS} FROM voice_notes WHERE status = 'no_recogniser' AND audio_path != ''"
        " AND received_at >= ? ORDER BY received_at DESC LIMIT ?", (since_ms, limit))
    return [_note(r) for r in rows]


def mark_retry(store: Store, message_event_id: str) -> int:
    """Count a re-recognition request; returns the retry number (part of the new transcript's event id)."""
    store.conn.execute("UPDATE voice_notes SET retries = retries + 1, status = 'retrying' WHERE message_event_id = ?",
                       (message_event_id,))
    return store.conn.execute("SELECT retries FROM voice_notes WHERE message_event_id = ?",
                              (message_event_id,)).fetchone()[0]


def recent_for_person(store: Store, person_id: str, limit: int = 20) -> list[VoiceNote]:
    rows = store.conn.execute(
        f"SELECT {_COLUMNS} FROM voice_notes WHERE person_id = ? ORDER BY recorded_at DESC LIMIT ?",
        (person_id, limit))
    return [_note(r) for r in rows]


def expired_audio(store: Store, older_than_ms: int, limit: int) -> list[tuple[str, str]]:
    """(message_event_id, audio_path) of notes whose audio is past retention."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT message_event_id, audio_path FROM voice_notes WHERE audio_path != '' AND received_at < ?"
        " ORDER BY received_at LIMIT ?", (older_than_ms, limit))]


def forget_audio(store: Store, message_event_ids: list[str]) -> None:
    store.conn.executemany("UPDATE voice_notes SET audio_path = '' WHERE message_event_id = ?",
                           [(m,) for m in message_event_ids])


def prune_transcripts(store: Store, older_than_ms: int, limit: int) -> int:
    """Drop whole rows (transcript text included) past retention; their audio went earlier or goes with them."""
    return store.conn.execute(
        "DELETE FROM voice_notes WHERE message_event_id IN (SELECT message_event_id FROM voice_notes"
        " WHERE received_at < ? AND audio_path = '' ORDER BY received_at LIMIT ?)", (older_than_ms, limit)).rowcount


def counts(store: Store) -> dict[str, int]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT status, COUNT(*) FROM voice_notes GROUP BY status")}


def customer_names_for(store: Store, person_id: str, limit: int) -> list[str]:
    """Names of the customers a rep owns (hotwords for recognition), newest first."""
    return [r[0] for r in store.conn.execute(
        "SELECT name FROM customers WHERE owner_id = ? AND name != '' ORDER BY created_at DESC LIMIT ?",
        (person_id, limit))]
