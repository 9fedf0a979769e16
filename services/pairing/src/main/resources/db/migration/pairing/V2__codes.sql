-- Pairing codes and workspace PSKs (docs/pairing.md). Tenant-owned tables have workspace_id and
-- row-level security ENABLED and FORCED. nullif(..., '') because a custom setting reverts to ''
-- on a pooled connection once a transaction has set it.

-- A code is stored only as the BLAKE2b-256 hash of its ULID. A daemon redeeming a code knows no
-- workspace: the one row whose hash it presents (umbra.pairing_code_hash) is readable, no other;
-- writes always need the row's own workspace set.
CREATE TABLE codes (
  workspace_id uuid NOT NULL,
  id uuid PRIMARY KEY,
  code_hash bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  require_psk boolean NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  cancelled_at timestamptz,
  machine_id uuid
);
CREATE INDEX codes_pending ON codes (workspace_id, id) WHERE used_at IS NULL AND cancelled_at IS NULL;

ALTER TABLE codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON codes
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid
         OR code_hash = decode(nullif(current_setting('umbra.pairing_code_hash', true), ''), 'hex'))
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

-- The workspace pre-shared key, Argon2id-hashed (PHC string); codes may require proof of it.
CREATE TABLE workspace_psks (
  workspace_id uuid PRIMARY KEY,
  psk_hash text NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL
);

ALTER TABLE workspace_psks ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_psks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workspace_psks
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

-- GLOBAL: failed redemptions per client IP, counted before any workspace is known
-- (dev.umbra.kit.auth.FailureLimiter), shared by every pairing instance.
CREATE TABLE auth_failures (
  bucket text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL
);
