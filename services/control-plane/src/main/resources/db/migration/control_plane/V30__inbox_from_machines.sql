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
