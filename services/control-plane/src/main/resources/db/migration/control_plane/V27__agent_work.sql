-- Agent work (docs/agents.md): plans, inbox items, run records, and the team shares that grant
-- access to them. Plan and inbox text is stored by design (it is the reviewable artifact); a run
-- record holds numbers and ids only, never a command line, output or transcript.
--
-- Every share names a resource and a team of its own workspace: the composite foreign keys
-- (workspace_id, resource) and (workspace_id, team) make a cross-workspace grant impossible even
-- for a statement that got past the service's checks and row-level security.
ALTER TABLE teams ADD CONSTRAINT teams_workspace_id_id UNIQUE (workspace_id, id);
ALTER TABLE machines ADD CONSTRAINT machines_workspace_id_id UNIQUE (workspace_id, id);
ALTER TABLE agents ADD CONSTRAINT agents_workspace_id_id UNIQUE (workspace_id, id);

CREATE TABLE plans (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id uuid PRIMARY KEY,
  author_kind text NOT NULL CHECK (author_kind IN ('member', 'agent')),
  author_id uuid NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  version integer NOT NULL CHECK (version >= 1),
  status text NOT NULL CHECK (status IN ('in_review', 'approved', 'changes_requested')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (workspace_id, id)
);
CREATE INDEX plans_workspace ON plans (workspace_id, id);

-- Every published version, kept.
CREATE TABLE plan_versions (
  workspace_id uuid NOT NULL,
  plan_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body text NOT NULL CHECK (length(body) <= 65536),
  steps jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) <= 100),
  author_kind text NOT NULL CHECK (author_kind IN ('member', 'agent')),
  author_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, plan_id, version),
  FOREIGN KEY (workspace_id, plan_id) REFERENCES plans (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE plan_comments (
  workspace_id uuid NOT NULL,
  id uuid PRIMARY KEY,
  plan_id uuid NOT NULL,
  version integer NOT NULL,
  author_kind text NOT NULL CHECK (author_kind IN ('member', 'agent')),
  author_id uuid NOT NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 8192),
  created_at timestamptz NOT NULL,
  FOREIGN KEY (workspace_id, plan_id) REFERENCES plans (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX plan_comments_plan ON plan_comments (workspace_id, plan_id, id);

CREATE TABLE plan_verdicts (
  workspace_id uuid NOT NULL,
  id uuid PRIMARY KEY,
  plan_id uuid NOT NULL,
  version integer NOT NULL,
  account_id uuid NOT NULL REFERENCES accounts(id),
  verdict text NOT NULL CHECK (verdict IN ('approve', 'request_changes')),
  note text CHECK (length(note) <= 4096),
  created_at timestamptz NOT NULL,
  FOREIGN KEY (workspace_id, plan_id) REFERENCES plans (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX plan_verdicts_plan ON plan_verdicts (workspace_id, plan_id, id);

-- A decision an agent waits for. kind approve: answer 'approve' or 'deny'; choose: one of
-- options; answer: free text. At the deadline an open item takes its default (status expired).
CREATE TABLE inbox_items (
  workspace_id uuid NOT NULL,
  id uuid PRIMARY KEY,
  agent_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('approve', 'choose', 'answer')),
  question text NOT NULL CHECK (length(question) BETWEEN 1 AND 4096),
  options jsonb NOT NULL CHECK (jsonb_typeof(options) = 'array' AND jsonb_array_length(options) <= 20),
  default_answer text NOT NULL CHECK (length(default_answer) BETWEEN 1 AND 4096),
  deadline timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'decided', 'expired')),
  answer text CHECK (length(answer) <= 4096),
  decided_by uuid,
  decided_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (workspace_id, id),
  FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id)
);
CREATE INDEX inbox_items_workspace ON inbox_items (workspace_id, id);

-- What `umbra run` left on a machine, as its daemon reported it (POST /v1/machine-audit):
-- numbers and ids only. The transcript stays under the daemon's UMBRA_HOME.
CREATE TABLE run_records (
  workspace_id uuid NOT NULL,
  id uuid PRIMARY KEY,
  event_id text NOT NULL CHECK (length(event_id) = 26),
  machine_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('command')),
  channel text NOT NULL CHECK (length(channel) BETWEEN 1 AND 16),
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason text NOT NULL CHECK (length(reason) <= 32),
  exit_status integer NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  duration_ms bigint NOT NULL CHECK (duration_ms >= 0),
  bytes_in bigint NOT NULL CHECK (bytes_in >= 0),
  bytes_out bigint NOT NULL CHECK (bytes_out >= 0),
  UNIQUE (workspace_id, event_id),
  FOREIGN KEY (workspace_id, machine_id) REFERENCES machines (workspace_id, id)
);
CREATE INDEX run_records_machine ON run_records (workspace_id, machine_id, id);

CREATE TABLE plan_shares (
  workspace_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  team_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, resource_id, team_id),
  FOREIGN KEY (workspace_id, resource_id) REFERENCES plans (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE
);
CREATE TABLE inbox_shares (
  workspace_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  team_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, resource_id, team_id),
  FOREIGN KEY (workspace_id, resource_id) REFERENCES inbox_items (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE
);
CREATE TABLE machine_shares (
  workspace_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  team_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, resource_id, team_id),
  FOREIGN KEY (workspace_id, resource_id) REFERENCES machines (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['plans', 'plan_versions', 'plan_comments', 'plan_verdicts',
                           'inbox_items', 'run_records', 'plan_shares', 'inbox_shares',
                           'machine_shares'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I '
      'USING (workspace_id = nullif(current_setting(''umbra.workspace_id'', true), '''')::uuid) '
      'WITH CHECK (workspace_id = nullif(current_setting(''umbra.workspace_id'', true), '''')::uuid)', t);
  END LOOP;
END $$;
