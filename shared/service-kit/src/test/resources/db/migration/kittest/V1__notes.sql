CREATE TABLE notes (
  id           bigserial PRIMARY KEY,
  workspace_id uuid NOT NULL,
  body         text NOT NULL
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notes
  USING (workspace_id = current_setting('umbra.workspace_id', true)::uuid)
  WITH CHECK (workspace_id = current_setting('umbra.workspace_id', true)::uuid);
