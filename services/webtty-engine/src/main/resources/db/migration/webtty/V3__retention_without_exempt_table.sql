-- Every table with workspace_id has forced row-level security (DESIGN.md §3, docs/tenancy.md);
-- session_index was the one exception ("global by design") and is gone. The retention sweep
-- finds expired sessions through expired_sessions() below instead, then deletes them inside
-- each workspace's own transaction as the request role.

DROP TABLE session_index;
CREATE INDEX sessions_age ON sessions ((coalesce(ended_at, started_at)));

-- The function runs as its owner (the schema owner, who runs these migrations). FORCE applies
-- RLS to the owner too, so the owner gets one read-only policy of its own; the request role
-- matches only the tenant policies. A superuser owner (dev, tests) bypasses RLS anyway.
CREATE POLICY sessions_retention_owner_read ON sessions FOR SELECT TO CURRENT_USER USING (true);

-- Narrow on purpose: ids of sessions that ended (or, never ended, started) before the cutoff,
-- at most 1000 per call; no header, no counts, no other table. Fixed search_path, qualified names.
CREATE FUNCTION expired_sessions(cutoff timestamptz, max_rows integer)
  RETURNS TABLE (workspace_id uuid, session_id text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.workspace_id, s.session_id
  FROM webtty.sessions s
  WHERE coalesce(s.ended_at, s.started_at) < cutoff
  ORDER BY coalesce(s.ended_at, s.started_at)
  LIMIT least(greatest(max_rows, 0), 1000)
$$;
REVOKE ALL ON FUNCTION expired_sessions(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION expired_sessions(timestamptz, integer) TO ${app_role};
