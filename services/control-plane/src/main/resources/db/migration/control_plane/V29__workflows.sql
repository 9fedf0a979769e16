-- Signed workflows (docs/agents.md, "Workflows"): a definition's YAML text, its version (only ever
-- higher), the signature of its canonical signed form (umbra-workflow/v1, built from the parsed
-- text) and the trusted device that signed it. The control plane checks the signature as a second
-- line; the daemon verifies it again against its pinned workspace trust before running anything,
-- so a text changed here is refused on the machine. A deleted workflow keeps its row without text
-- or signature (a tombstone), so that its next version is still higher than every earlier one.
ALTER TABLE devices ADD CONSTRAINT devices_workspace_id_id UNIQUE (workspace_id, id);

CREATE TABLE workflows (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  version bigint NOT NULL CHECK (version >= 1),
  yaml text CHECK (length(yaml) BETWEEN 1 AND 65536),
  signature bytea CHECK (length(signature) = 64),
  signer_device_id uuid NOT NULL,
  set_by uuid NOT NULL REFERENCES accounts(id),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, name),
  CHECK ((yaml IS NULL) = (signature IS NULL)),
  FOREIGN KEY (workspace_id, signer_device_id) REFERENCES devices (workspace_id, id)
);

-- A workflow run is a run record too: which definition and version, and each step's status, exit
-- status and byte counts (numbers and ids only, never a command line or output).
ALTER TABLE run_records DROP CONSTRAINT run_records_kind_check;
ALTER TABLE run_records ADD CONSTRAINT run_records_kind_check CHECK (kind IN ('command', 'agent_session', 'workflow'));
ALTER TABLE run_records ADD COLUMN workflow_name text CHECK (length(workflow_name) <= 64);
ALTER TABLE run_records ADD COLUMN workflow_version bigint;
ALTER TABLE run_records ADD COLUMN steps jsonb
  CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) <= 50);
ALTER TABLE run_records ADD CONSTRAINT run_records_workflow_fields
  CHECK ((kind = 'workflow') = (workflow_name IS NOT NULL AND workflow_version IS NOT NULL AND steps IS NOT NULL));

ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workflows
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
