-- An agent's signed session requests must carry strictly increasing timestamps, as machines'
-- (V3): the newest accepted one is kept, so a captured request cannot be replayed inside its minute.
ALTER TABLE agents ADD COLUMN last_session_ms bigint;
