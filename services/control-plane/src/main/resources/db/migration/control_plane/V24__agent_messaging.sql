-- Owner <-> agent messaging (docs/messaging.md). Agents are workspace principals enrolled from a
-- machine; prekey bundles and messages are opaque bytes to the platform. No column can hold
-- plaintext: keys and ciphertext are bytea with bounded lengths, the rest is ids and times.
CREATE TABLE agents (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  machine_id uuid NOT NULL REFERENCES machines(id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  ed25519_public_key bytea NOT NULL CHECK (length(ed25519_public_key) = 32),
  x25519_public_key bytea NOT NULL CHECK (length(x25519_public_key) = 32),
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
  created_at timestamptz NOT NULL,
  approved_at timestamptz,
  approved_by uuid,
  revoked_at timestamptz,
  UNIQUE (workspace_id, ed25519_public_key)
);
CREATE INDEX agents_workspace ON agents (workspace_id, id);

-- One bundle per principal (a trusted device or an approved agent): identity key and the current
-- signed prekey (signature inside the opaque bytes, checked by the clients).
CREATE TABLE prekey_bundles (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  principal_id uuid NOT NULL,
  principal_kind text NOT NULL CHECK (principal_kind IN ('device', 'agent')),
  identity_key bytea NOT NULL CHECK (length(identity_key) BETWEEN 32 AND 256),
  signed_prekey bytea NOT NULL CHECK (length(signed_prekey) BETWEEN 32 AND 1024),
  signed_prekey_id bigint NOT NULL CHECK (signed_prekey_id >= 0),
  signed_prekey_expires_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, principal_id)
);

CREATE TABLE one_time_prekeys (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  principal_id uuid NOT NULL,
  key_id bigint NOT NULL CHECK (key_id >= 0),
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  PRIMARY KEY (workspace_id, principal_id, key_id)
);

-- A member <-> agent conversation.
CREATE TABLE conversations (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id),
  agent_id uuid NOT NULL REFERENCES agents(id),
  created_at timestamptz NOT NULL,
  UNIQUE (workspace_id, account_id, agent_id)
);

-- Every (message id, recipient) ever accepted, until retention: a resend of a copy already
-- stored or acknowledged is a no-op.
CREATE TABLE message_ids (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid NOT NULL,
  recipient_id uuid NOT NULL,
  sender_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id, recipient_id)
);
CREATE INDEX message_ids_created ON message_ids (created_at);

-- One row per recipient device or agent, deleted on its acknowledgement or after retention.
CREATE TABLE messages (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  seq bigserial NOT NULL,
  id uuid NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  sender_kind text NOT NULL CHECK (sender_kind IN ('device', 'agent')),
  sender_id uuid NOT NULL,
  recipient_kind text NOT NULL CHECK (recipient_kind IN ('device', 'agent')),
  recipient_id uuid NOT NULL,
  ciphertext bytea NOT NULL CHECK (length(ciphertext) BETWEEN 1 AND 65536),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id, recipient_id)
);
CREATE INDEX messages_pending ON messages (workspace_id, recipient_id, seq);
CREATE INDEX messages_created ON messages (created_at);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['agents', 'prekey_bundles', 'one_time_prekeys', 'conversations',
                           'message_ids', 'messages'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I '
      'USING (workspace_id = nullif(current_setting(''umbra.workspace_id'', true), '''')::uuid) '
      'WITH CHECK (workspace_id = nullif(current_setting(''umbra.workspace_id'', true), '''')::uuid)', t);
  END LOOP;
END $$;

-- A member's notification webhook (docs/messaging.md, "Notifications"): where to POST a delivery
-- signal (ids and a display name only) and the HMAC-SHA256 secret that signs it (shown once).
CREATE TABLE member_webhooks (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
  secret bytea NOT NULL CHECK (length(secret) = 32),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, account_id)
);
ALTER TABLE member_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON member_webhooks
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);
