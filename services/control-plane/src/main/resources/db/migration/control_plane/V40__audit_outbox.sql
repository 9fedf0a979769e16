-- Audit events written down in the transaction of what they record (docs/messaging.md, "Audit"):
-- a message send's agent.message.sent event is inserted here by the statement after message_send,
-- in the send's transaction, only for a send that stored a copy; the instance appends it to the
-- audit stream after the commit and then deletes the row. An instance killed between the commit
-- and the append (or a Redis outage longer than the emitter's retries) leaves the row, and any
-- instance's sweep appends it later under the same event id (the audit service keeps one event per
-- id) and deletes it. The event is the serialized umbra.v1.AuditEvent (envelope metadata only, as
-- every audit event: ids, counts, the source address; never a payload); machine_id is the sending
-- agent's machine (the event's actor), null for a device's send.
CREATE TABLE audit_outbox (
  workspace_id uuid NOT NULL,
  event_id text NOT NULL,
  event bytea NOT NULL,
  machine_id uuid,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, event_id)
);
CREATE INDEX audit_outbox_created ON audit_outbox (created_at);

ALTER TABLE audit_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_outbox
  USING (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid)
  WITH CHECK (workspace_id = nullif(current_setting('umbra.workspace_id', true), '')::uuid);

-- The sweep's one cross-workspace question, as webhook_due_workspaces (V26): which workspaces hold
-- an event written before due_by. Runs as its owner, who gets a read-only policy of its own.
CREATE POLICY audit_outbox_sweep_owner_read ON audit_outbox
  FOR SELECT TO CURRENT_USER USING (true);

CREATE FUNCTION audit_outbox_due_workspaces(due_by timestamptz, max_rows integer)
  RETURNS TABLE (workspace_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT DISTINCT o.workspace_id
  FROM control_plane.audit_outbox o
  WHERE o.created_at < due_by
  LIMIT least(greatest(max_rows, 0), 1000)
$$;
REVOKE ALL ON FUNCTION audit_outbox_due_workspaces(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_outbox_due_workspaces(timestamptz, integer) TO ${app_role};
