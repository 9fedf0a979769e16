-- A send's audit row (V40) is written by a function whose statement is planned once per connection,
-- as message_send's (V38, V39), instead of by a statement the plan cache planned again on every
-- send: with the arrays' values known, a custom plan expects one row from the unnest and the
-- generic one the default, so the cache judged the generic plan dearer and never switched
-- (pg_stat_statements, MessagingBench 2026-12-06 on an AMD EPYC: 1 764 plannings in 1 815
-- executions, 0.185 ms of planning against 0.048 ms of execution a send — about a sixth of
-- PostgreSQL's CPU per send). The generic plan's shape is the statement's: per event, the sending
-- agent's machine by the agents primary key and the send's claim by the message_ids primary key
-- (each a correlated subquery with LIMIT 1, never a join); sequential and bitmap scans are off so
-- that a plan made while the tables are young stays an index probe as they grow. The claim made by
-- this transaction has its id as xmin, so a send that stored nothing writes no row (V40). Row-level
-- security applies (SECURITY INVOKER). Answers how many rows it wrote.
CREATE FUNCTION audit_outbox_insert(
    wid uuid, stamp timestamptz, send_ids uuid[], event_ids text[], events bytea[],
    agents uuid[])
  RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  SET plan_cache_mode = force_generic_plan
  SET enable_seqscan = off
  SET enable_bitmapscan = off
AS $$
DECLARE
  written integer;
BEGIN
  INSERT INTO control_plane.audit_outbox (workspace_id, event_id, event, machine_id, created_at)
  SELECT wid, u.event_id, u.event,
    (SELECT a.machine_id FROM control_plane.agents a WHERE a.id = u.agent LIMIT 1), stamp
  FROM unnest(send_ids, event_ids, events, agents) AS u(message_id, event_id, event, agent)
  WHERE (SELECT true FROM control_plane.message_ids mi
         WHERE mi.workspace_id = wid AND mi.id = u.message_id
           AND mi.xmin = pg_current_xact_id()::xid LIMIT 1);
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;
REVOKE ALL ON FUNCTION audit_outbox_insert(uuid, timestamptz, uuid[], text[], bytea[], uuid[])
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_outbox_insert(uuid, timestamptz, uuid[], text[], bytea[], uuid[])
  TO ${app_role};
