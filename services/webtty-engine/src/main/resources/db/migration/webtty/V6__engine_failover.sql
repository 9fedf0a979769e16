-- Engine failover (docs/webtty.md, "Engine failover"): the epoch of the last daemon-signed resume
-- document an instance accepted for the session. A RESUME whose epoch is not newer is refused
-- (resume_refused_replayed), so a replayed resume cannot move a session twice. 0: never resumed.
-- Failover gaps are recorded as events of kind 6 (GAP) with the resume document in `signed`.
ALTER TABLE sessions ADD COLUMN resume_epoch bigint NOT NULL DEFAULT 0;
