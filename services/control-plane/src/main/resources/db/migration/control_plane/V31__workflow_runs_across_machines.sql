-- One run of a workflow whose steps name several machines is one run record (docs/agents.md,
-- "Workflow runs"): every machine's signed report carries the run id the client chose, and the
-- control plane merges them into the row of that id. `reports` lists the reports merged so far
-- ({machine_id, event_id, outcome, reason}); each step result names the machine that reported it.
ALTER TABLE run_records ADD COLUMN run_id text CHECK (length(run_id) = 26);
ALTER TABLE run_records ADD COLUMN reports jsonb
  CHECK (jsonb_typeof(reports) = 'array' AND jsonb_array_length(reports) <= 50);
CREATE UNIQUE INDEX run_records_run_id ON run_records (workspace_id, run_id) WHERE run_id IS NOT NULL;
