-- Control-plane data model (docs/control-plane.md). Tenant-owned tables carry workspace_id with
-- row-level security ENABLED and FORCED; the few global tables say why they are global.
-- Policies use nullif(..., '') because a custom setting reverts to '' (not NULL) on a pooled
-- connection after the transaction that set it; '' must mean "no workspace", not an error.

-- GLOBAL: the tenant registry itself (one row per workspace: id, name). Holds no tenant data.
CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);

-- GLOBAL: a person, who may belong to several workspaces; only a display name.
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);

-- GLOBAL: API tokens belong to an account (a script acts as its account in every workspace the
-- account may reach, narrowed by scope). Only the lookup id and the Argon2id hash are stored.
CREATE TABLE api_tokens (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id),
  lookup_id text NOT NULL UNIQUE,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('full', 'read')),
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id, id);

-- GLOBAL: the deployment's one-time bootstrap token (BLAKE2b-256 hash), before any workspace exists.
CREATE TABLE bootstrap (
  id integer PRIMARY KEY CHECK (id = 1),
  token_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz
);

-- GLOBAL: public halves of the session-token signing keys of every control-plane instance
-- (private halves stay in each instance's UMBRA_HOME); served as the JWKS.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  created_at timestamptz NOT NULL,
  signs_until timestamptz NOT NULL,
  published_until timestamptz NOT NULL
);

-- GLOBAL: failed-authentication counters per IP and per token lookup id, counted before any
-- workspace is known (dev.umbra.kit.auth.FailureLimiter).
CREATE TABLE auth_failures (
  bucket text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL
);

CREATE TABLE members (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL,
  UNIQUE (workspace_id, account_id)
);

-- Which workspaces an account belongs to. Tenant-owned like members, but an account may also
-- see its own rows (umbra.account_id) so `workspace list` works without reading members.
CREATE TABLE account_workspaces (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  PRIMARY KEY (account_id, workspace_id)
);

CREATE TABLE invitations (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  note text NOT NULL DEFAULT '',
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_member uuid,
  cancelled_at timestamptz
);

CREATE TABLE teams (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  member_id uuid NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, member_id)
);

CREATE TABLE machines (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  install_id uuid NOT NULL,
  x25519_public_key bytea NOT NULL CHECK (length(x25519_public_key) = 32),
  ed25519_public_key bytea NOT NULL CHECK (length(ed25519_public_key) = 32),
  name text NOT NULL,
  os text NOT NULL,
  paired_by text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz,
  revoked_at timestamptz,
  UNIQUE (workspace_id, install_id)
);

ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON members
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE account_workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON account_workspaces
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid
         OR account_id = nullif(current_setting('umbra.account_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

-- An invitee knows only the token: the row whose hash it presents (umbra.invite_token_hash) is
-- visible without a workspace, and no other.
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invitations
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid
         OR token_hash = decode(nullif(current_setting('umbra.invite_token_hash', true), ''), 'hex'))
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON teams
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_members
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

ALTER TABLE machines ENABLE ROW LEVEL SECURITY;
ALTER TABLE machines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON machines
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
