-- Audit events, hash-chained per workspace (docs/audit.md). Rows are written once by the ingest
-- and never updated; the chain makes any later change visible to verification.
CREATE TABLE events (
  workspace_id uuid        NOT NULL,
  seq          bigint      NOT NULL CHECK (seq > 0),
  id           text        NOT NULL,
  actor_kind   text        NOT NULL,
  actor_id     text        NOT NULL,
  action       text        NOT NULL,
  target       text        NOT NULL,
  outcome      text        NOT NULL,
  time_ms      bigint      NOT NULL,
  source_ip    text        NOT NULL,
  request_id   text        NOT NULL,
  service      text        NOT NULL,
  metadata     jsonb       NOT NULL,
  prev_hash    bytea       NOT NULL,
  hash         bytea       NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, seq),
  UNIQUE (workspace_id, id)
);
CREATE INDEX events_time ON events (workspace_id, time_ms, seq);
CREATE INDEX events_action ON events (workspace_id, action, seq);
CREATE INDEX events_actor ON events (workspace_id, actor_id, seq);
CREATE INDEX events_target ON events (workspace_id, target, seq);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant ON events
  USING (workspace_id = current_setting('umbra.workspace_id', true)::uuid)
  WITH CHECK (workspace_id = current_setting('umbra.workspace_id', true)::uuid);

-- The last link of each workspace's chain. Locked (FOR UPDATE) by the ingest transaction, which
-- serializes appends per workspace across every audit instance; verification compares the last
-- stored event with it, so deleting the newest rows is found too.
CREATE TABLE chain_heads (
  workspace_id uuid        PRIMARY KEY,
  last_seq     bigint      NOT NULL,
  last_hash    bytea       NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY chain_heads_tenant ON chain_heads
  USING (workspace_id = current_setting('umbra.workspace_id', true)::uuid)
  WITH CHECK (workspace_id = current_setting('umbra.workspace_id', true)::uuid);

-- Stream entries that could not be stored (malformed, oversized, unknown action, refused by the
-- database). Deployment-level, not tenant data: the workspace of a malformed entry is unknown.
-- Kept for inspection and re-drive; the raw bytes are capped (raw_length is the original size).
CREATE TABLE dead_letters (
  entry_id    text        PRIMARY KEY,
  reason      text        NOT NULL,
  raw         bytea       NOT NULL,
  raw_length  integer     NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
