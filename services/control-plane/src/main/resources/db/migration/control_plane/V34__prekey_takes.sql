-- Who took whose one-time prekeys, and when (docs/messaging.md, "Prekeys"): a fetcher gets at most
-- a few of one principal's one-time prekeys per hour; past that its bundles come without one
-- (X3DH's fallback), so no member device or agent can use up another principal's one-time prekeys
-- by fetching in a loop. Rows older than the hour are pruned by the fetches themselves.
CREATE TABLE prekey_takes (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  principal_id uuid NOT NULL,
  fetcher_id uuid NOT NULL,
  taken_at timestamptz NOT NULL
);
CREATE INDEX prekey_takes_pair ON prekey_takes (workspace_id, principal_id, fetcher_id, taken_at);

ALTER TABLE prekey_takes ENABLE ROW LEVEL SECURITY;
ALTER TABLE prekey_takes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON prekey_takes
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
