-- Agent sessions leave run records too (docs/agents.md, "Run records"): kind 'agent_session', and
-- the id of the runtime the daemon's configuration names (a short code, never a command line).
ALTER TABLE run_records DROP CONSTRAINT run_records_kind_check;
ALTER TABLE run_records ADD CONSTRAINT run_records_kind_check
  CHECK (kind IN ('command', 'agent_session'));
ALTER TABLE run_records ADD COLUMN runtime text
  CHECK (runtime ~ '^[a-z0-9][a-z0-9_-]{0,31}$');
ALTER TABLE run_records ADD CONSTRAINT run_records_runtime_kind
  CHECK ((kind = 'agent_session') = (runtime IS NOT NULL));
