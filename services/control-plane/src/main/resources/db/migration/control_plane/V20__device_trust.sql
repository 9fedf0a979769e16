-- Workspace Protection (docs/device-trust.md): public keysets, devices, keyset envelopes,
-- Recovery Kits and the context vault. Only public keys, signed payloads, envelopes
-- (ciphertext) and vault ciphertext are stored; every table is tenant-owned with RLS forced.

-- The keyset chain: version 1 self-signed, each later version signed by the one before.
CREATE TABLE keysets (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  version integer NOT NULL CHECK (version >= 1),
  payload text NOT NULL,
  signature bytea NOT NULL CHECK (length(signature) = 64),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, version)
);

-- Devices asking to be trusted, trusted, revoked or rejected. request_* is the device's
-- self-signed request; credential_* the workspace-key-signed credential; revocation_* the
-- workspace-key-signed revocation.
CREATE TABLE devices (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id),
  ed25519_public_key bytea NOT NULL CHECK (length(ed25519_public_key) = 32),
  p256_public_key bytea NOT NULL CHECK (length(p256_public_key) = 65),
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('cli', 'daemon', 'browser')),
  status text NOT NULL CHECK (status IN ('pending', 'trusted', 'revoked', 'rejected')),
  request_payload text NOT NULL,
  request_signature bytea NOT NULL CHECK (length(request_signature) = 64),
  credential_payload text,
  credential_signature bytea CHECK (length(credential_signature) = 64),
  keyset_version integer,
  revocation_payload text,
  revocation_signature bytea CHECK (length(revocation_signature) = 64),
  created_at timestamptz NOT NULL,
  approved_at timestamptz,
  revoked_at timestamptz,
  UNIQUE (workspace_id, ed25519_public_key)
);
CREATE INDEX devices_workspace ON devices (workspace_id, id);

-- The private keyset bundle, sealed (P-256 ECDH + HKDF + AES-256-GCM) to one device or kit.
CREATE TABLE keyset_envelopes (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  keyset_version integer NOT NULL,
  recipient_kind text NOT NULL CHECK (recipient_kind IN ('device', 'recovery')),
  recipient_id uuid NOT NULL,
  envelope text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, keyset_version, recipient_kind, recipient_id)
);

-- Recovery Kits: the kit's public key signed by the workspace key; the private key is offline.
CREATE TABLE recovery_kits (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  payload text NOT NULL,
  signature bytea NOT NULL CHECK (length(signature) = 64),
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'retired')),
  created_at timestamptz NOT NULL,
  confirmed_at timestamptz
);

-- Context vault entries: HPKE ciphertext to the workspace encryption key of keyset_version.
CREATE TABLE vault_entries (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  name text NOT NULL,
  keyset_version integer NOT NULL,
  enc bytea NOT NULL CHECK (length(enc) = 32),
  ciphertext bytea NOT NULL,
  written_by uuid NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (workspace_id, name)
);

-- Proposed entries (e.g. from an agent), ciphertext too, until a trusted device accepts them.
CREATE TABLE vault_candidates (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  name text NOT NULL,
  keyset_version integer NOT NULL,
  enc bytea NOT NULL CHECK (length(enc) = 32),
  ciphertext bytea NOT NULL,
  proposed_by uuid NOT NULL,
  created_at timestamptz NOT NULL
);

ALTER TABLE keysets ENABLE ROW LEVEL SECURITY;
ALTER TABLE keysets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON keysets
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON devices
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE keyset_envelopes ENABLE ROW LEVEL SECURITY;
ALTER TABLE keyset_envelopes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON keyset_envelopes
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE recovery_kits ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_kits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON recovery_kits
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE vault_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON vault_entries
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE vault_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_candidates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON vault_candidates
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
