-- WebTTY sessions and their recordings (docs/webtty.md). Terminal bytes are stored only as
-- AES-256-GCM ciphertext with their crypto metadata; the engine holds no key to open them.

CREATE TABLE sessions (
  workspace_id   uuid        NOT NULL,
  session_id     text        NOT NULL,
  server_id      text        NOT NULL,
  opened_by      text        NOT NULL,
  recording      boolean     NOT NULL,
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  end_reason     text,
  exit_status    integer,
  -- RecordingHeader protobuf: key context, key grants (HPKE, public), signed ServerHello, size
  header         bytea       NOT NULL,
  event_count    bigint      NOT NULL DEFAULT 0,
  ciphertext_bytes bigint    NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, session_id)
);
CREATE INDEX sessions_started ON sessions (workspace_id, started_at DESC);
CREATE INDEX sessions_ended ON sessions (ended_at);

-- kind: 1 data, 2 resize, 3 exit. stream: 1 stdin, 2 stdout, 3 stderr.
CREATE TABLE events (
  workspace_id     uuid        NOT NULL,
  session_id       text        NOT NULL,
  sequence         bigint      NOT NULL,
  at               timestamptz NOT NULL,
  kind             smallint    NOT NULL,
  stream           smallint,
  payload_key_id   bytea,
  nonce            bytea,
  ciphertext       bytea,
  plaintext_length integer,
  cols             integer,
  rows             integer,
  exit_status      integer,
  PRIMARY KEY (workspace_id, session_id, sequence),
  FOREIGN KEY (workspace_id, session_id) REFERENCES sessions (workspace_id, session_id) ON DELETE CASCADE
);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_tenant ON sessions
  USING (workspace_id = current_setting('umbra.workspace_id', true)::uuid)
  WITH CHECK (workspace_id = current_setting('umbra.workspace_id', true)::uuid);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant ON events
  USING (workspace_id = current_setting('umbra.workspace_id', true)::uuid)
  WITH CHECK (workspace_id = current_setting('umbra.workspace_id', true)::uuid);

-- Global by design (no RLS): ids and times only, so the retention job can find expired
-- recordings across workspaces and then delete them inside each workspace's own transaction.
CREATE TABLE session_index (
  workspace_id uuid        NOT NULL,
  session_id   text        NOT NULL,
  started_at   timestamptz NOT NULL,
  ended_at     timestamptz,
  PRIMARY KEY (workspace_id, session_id)
);
CREATE INDEX session_index_age ON session_index ((coalesce(ended_at, started_at)));
