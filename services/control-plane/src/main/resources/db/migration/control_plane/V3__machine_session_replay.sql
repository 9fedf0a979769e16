-- A machine's signed session requests must carry strictly increasing timestamps: the newest
-- accepted one is kept, so a captured request cannot be replayed even inside its minute.
ALTER TABLE machines ADD COLUMN last_session_ms bigint;
