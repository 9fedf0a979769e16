-- message_send plans its statements once per connection, not on every call (docs/benchmarks.md,
-- "Issue 17: the send planned its statement on every call"). PL/pgSQL keeps them in PostgreSQL's
-- plan cache, which plans them anew with each call's values (custom plans) for the first five calls
-- after every invalidation (a new connection, an ANALYZE of a table they read), and for good while
-- it estimates the generic plan dearer than the custom ones: with the arrays' values known, a custom
-- plan expects one row per unnest, the generic one the default, so with MessagingBench's data the
-- cache never switched and planned the statement on every send (2026-12-06, Intel Xeon: the
-- statement took 5.4 ms at p50 in PostgreSQL at 50 sends/s, 49 % of the backends' CPU in
-- GetCachedPlan). The generic plan has the same shape (lookups by primary key and by the pending
-- indexes, whatever the arrays hold), so it is forced; the setting holds for the statements of the
-- functions it calls (message_ids_check_senders) and for the foreign-key checks of its inserts.
ALTER FUNCTION message_send(uuid, uuid[], uuid[], text[], uuid[], uuid[], bigint[], uuid[], bytea[],
  timestamptz, int, int) SET plan_cache_mode = force_generic_plan;

-- The "message id held by another sender" check (V32, V36) reads the claims of the ids it is given
-- and nothing else, whatever the statistics: one primary-key lookup per id (a LATERAL subquery with
-- LIMIT 1 is not turned into a join), sequential and bitmap scans off for it. V36's `m.id =
-- ANY(ids)` still let the planner, with the statistics of a young table, scan every claim of the
-- workspace and filter them (auto_explain, MessagingBench 2026-12-06, 6 001 claims: a bitmap heap
-- scan of the workspace's claims with `id = ANY($1)` as a filter, 1.9 ms at p50 and 10 ms at p90 a
-- send, growing with every message kept); a plan made once per connection (above) would keep that
-- shape until the table is analyzed again.
CREATE OR REPLACE FUNCTION message_ids_check_senders(ids uuid[], senders uuid[])
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
  SET enable_seqscan = off
  SET enable_bitmapscan = off
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(ids, senders) AS u(id, sender)
             CROSS JOIN LATERAL (SELECT 1 FROM control_plane.message_ids m
                                 WHERE m.id = u.id AND m.sender_id <> u.sender LIMIT 1) x) THEN
    RAISE EXCEPTION 'a message id is held by another sender' USING ERRCODE = 'UM001';
  END IF;
END
$$;
