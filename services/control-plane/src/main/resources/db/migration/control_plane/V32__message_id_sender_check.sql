-- A send's "message id used by another sender" check, inside PostgreSQL (docs/messaging.md, "How a
-- send is stored"): called right after the claim, as its own statement (so its snapshot is taken
-- after the claim finished, waiting for a concurrent claim of the same key), it raises SQLSTATE
-- UM001 when another sender holds one of the ids. The transaction is then aborted and cannot
-- commit, so the control plane sends its COMMIT behind the two statements without waiting for
-- their answers (one round trip less per send). Row-level security applies (SECURITY INVOKER).
CREATE FUNCTION message_ids_check_senders(ids uuid[], senders uuid[])
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM control_plane.message_ids m
             JOIN unnest(ids, senders) AS u(id, sender) ON m.id = u.id
             WHERE m.sender_id <> u.sender) THEN
    RAISE EXCEPTION 'a message id is held by another sender' USING ERRCODE = 'UM001';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION message_ids_check_senders(uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION message_ids_check_senders(uuid[], uuid[]) TO ${app_role};
