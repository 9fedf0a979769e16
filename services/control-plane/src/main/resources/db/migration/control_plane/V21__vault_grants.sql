-- Vault grants (docs/device-trust.md): the workspace vault decryption keys, HPKE-sealed on a
-- trusted device to one machine's X25519 key, so that daemon can open vault entries. Ciphertext only.
CREATE TABLE vault_grants (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  machine_id uuid NOT NULL REFERENCES machines(id),
  keyset_version integer NOT NULL,
  enc bytea NOT NULL CHECK (length(enc) = 32),
  ciphertext bytea NOT NULL,
  granted_by uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, machine_id)
);

ALTER TABLE vault_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON vault_grants
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
