-- Inbox items raised by a daemon for an agent session's runtime (docs/agents.md, "Inbox items
-- from a runtime"): the machine is the item's author instead of an agent, and the daemon's local
-- session id says which session waits. Exactly one author.
ALTER TABLE inbox_items ALTER COLUMN agent_id DROP NOT NULL;
ALTER TABLE inbox_items ADD COLUMN machine_id uuid;
ALTER TABLE inbox_items ADD COLUMN session_id text
  CHECK (session_id ~ '^[0-9A-Za-z-]{1,64}$');
ALTER TABLE inbox_items ADD CONSTRAINT inbox_items_one_author
  CHECK ((agent_id IS NULL) <> (machine_id IS NULL));
ALTER TABLE inbox_items ADD CONSTRAINT inbox_items_machine
  FOREIGN KEY (workspace_id, machine_id) REFERENCES machines (workspace_id, id);
CREATE INDEX inbox_items_machine ON inbox_items (workspace_id, machine_id, id);

-- Workflows mirrored to repository files by daemons (docs/agents.md, "Mirroring to repository
-- files"): a file edited on a machine is a proposed revision here (never runnable: it has no
-- signature until a trusted device signs it as the next version); a conflicting edit (both sides
-- changed since the daemon's last sync) is a proposal with conflict = true. One per workflow name
-- and machine; a new signed version clears the name's proposals.
CREATE TABLE workflow_proposals (
  workspace_id uuid NOT NULL,
  name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  machine_id uuid NOT NULL,
  yaml text NOT NULL CHECK (length(yaml) BETWEEN 1 AND 65536),
  base_version bigint NOT NULL CHECK (base_version >= 0),
  conflict boolean NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, name, machine_id),
  FOREIGN KEY (workspace_id, machine_id) REFERENCES machines (workspace_id, id)
);
ALTER TABLE workflow_proposals ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_proposals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workflow_proposals
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
