-- Notification webhook deliveries that survive a restart (docs/messaging.md, "Notifications").
-- One row per pending signal, written in the transaction that stores the agent's message, claimed
-- by any instance's sweep (FOR UPDATE SKIP LOCKED) and deleted after success, a refusal or the
-- last attempt. Ids, an attempt count and times only: the body is built from them at delivery
-- (the agent's name read then); the URL and secret stay in member_webhooks. A member's rows go
-- with their webhook (ON DELETE CASCADE); at most 100 per member (the service coalesces beyond).
CREATE TABLE webhook_deliveries (
  workspace_id uuid NOT NULL REFERENCES workspaces(id),
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  agent_id uuid NOT NULL REFERENCES agents(id),
  message_id uuid NOT NULL,
  attempts integer NOT NULL CHECK (attempts BETWEEN 0 AND 4),
  due_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (workspace_id, account_id, message_id),
  FOREIGN KEY (workspace_id, account_id)
    REFERENCES member_webhooks (workspace_id, account_id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at);
CREATE INDEX webhook_deliveries_member ON webhook_deliveries (workspace_id, account_id, created_at);

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON webhook_deliveries
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

-- The sweep's one cross-workspace question, as webtty's expired_sessions (docs/tenancy.md): which
-- workspaces have a delivery due. The function runs as its owner (who runs these migrations);
-- FORCE applies RLS to the owner too, so the owner gets a read-only policy of its own that the
-- request role does not match. Claims then run inside each workspace's own transaction.
CREATE POLICY webhook_deliveries_sweep_owner_read ON webhook_deliveries
  FOR SELECT TO CURRENT_USER USING (true);

-- Narrow on purpose: workspace ids only, at most 1000 per call; fixed search_path, qualified names.
CREATE FUNCTION webhook_due_workspaces(due_by timestamptz, max_rows integer)
  RETURNS TABLE (workspace_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT DISTINCT d.workspace_id
  FROM control_plane.webhook_deliveries d
  WHERE d.due_at <= due_by
  LIMIT least(greatest(max_rows, 0), 1000)
$$;
REVOKE ALL ON FUNCTION webhook_due_workspaces(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_due_workspaces(timestamptz, integer) TO ${app_role};
