-- WebTTY server policy per machine (docs/webtty.md, "Server policy"): recording on/off, who may
-- join, whether stdin is recorded, and a version that only increases. With Workspace Protection
-- the document is signed by a trusted device (payload + signature, verified again by the daemon
-- against its pinned trust); without it the payload is stored unsigned. The columns beside the
-- payload are the same values, for listing; the daemon reads only the signed document.
CREATE TABLE webtty_policies (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  machine_id uuid NOT NULL REFERENCES machines(id),
  version bigint NOT NULL CHECK (version >= 1),
  recording boolean NOT NULL,
  join_policy text NOT NULL CHECK (join_policy IN ('nobody', 'members', 'admins')),
  record_stdin boolean NOT NULL,
  payload text NOT NULL,
  signature bytea CHECK (length(signature) = 64),
  signer_device_id uuid,
  set_by uuid NOT NULL REFERENCES accounts(id),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, machine_id),
  CHECK ((signature IS NULL) = (signer_device_id IS NULL))
);

ALTER TABLE webtty_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE webtty_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON webtty_policies
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
