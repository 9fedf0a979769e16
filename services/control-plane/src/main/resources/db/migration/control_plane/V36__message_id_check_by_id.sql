-- The send's "message id used by another sender" check (V32) read every id the workspace had claimed
-- in the retention period: its join on the ids left the index only the workspace column, and with
-- the statistics of a young table the planner chose a bitmap scan of all the workspace's claims and
-- a hash join (auto_explain, MessagingBench 2026-12-06: 6 243 rows read for a one-id send, 1.3 ms at
-- p50, growing with every message kept). `m.id = ANY(ids)` gives the primary key's second column,
-- so the check reads the claims of the ids it is given and nothing else, whatever the statistics.
CREATE OR REPLACE FUNCTION message_ids_check_senders(ids uuid[], senders uuid[])
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM control_plane.message_ids m
             JOIN unnest(ids, senders) AS u(id, sender) ON m.id = u.id
             WHERE m.id = ANY(ids) AND m.sender_id <> u.sender) THEN
    RAISE EXCEPTION 'a message id is held by another sender' USING ERRCODE = 'UM001';
  END IF;
END
$$;
