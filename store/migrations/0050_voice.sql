-- Voice notes and what the speech pipeline made of them (handlers/voice). One row per voice Message, written when
-- the note arrives (so a re-dispatched message never queues a second transcription) and completed when its
-- VoiceTranscript event is dispatched. audio_path is relative to [bot] data_dir; retention empties it (and the file)
-- after [asr] audio_retention_days and drops the row after transcript_retention_days.
CREATE TABLE voice_notes (
  message_event_id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  person_id TEXT NOT NULL DEFAULT '',
  actor_platform_id TEXT NOT NULL DEFAULT '',
  conversation_id TEXT NOT NULL DEFAULT '',
  to_bot INTEGER NOT NULL DEFAULT 0,
  media_id TEXT NOT NULL DEFAULT '',
  recorded_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  text TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0,
  speech_ms INTEGER NOT NULL DEFAULT 0,
  pauses_ms TEXT NOT NULL DEFAULT '[]',
  audio_path TEXT NOT NULL DEFAULT '',
  transcript_event_id TEXT NOT NULL DEFAULT '',
  retries INTEGER NOT NULL DEFAULT 0,
  transcribed_at INTEGER
);
CREATE INDEX voice_notes_status ON voice_notes (status, received_at);
CREATE INDEX voice_notes_person ON voice_notes (person_id, recorded_at);
