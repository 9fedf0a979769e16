-- An acknowledgement checked and done in one statement (docs/messaging.md, "Acknowledgements"):
-- the control plane sends BEGIN, the workspace setting, one call of this function and COMMIT
-- without waiting for any answer (one round trip; four before: BEGIN and the setting, the party
-- check, the delete, COMMIT). It checks what the control plane checked before the delete: the
-- recipient still active (an approved agent whose machine is not revoked, or a trusted device of a
-- member of the workspace); if not, it raises UM002 (nothing deleted, the transaction aborted, its
-- COMMIT rolls back). Then it deletes the recipient's own copies among ids (only rows whose
-- recipient_id is the caller's: another recipient's copy of the same id stays until that
-- recipient acknowledges it; a message is gone once every recipient device acknowledged its copy;
-- an id acknowledged twice deletes nothing the second time) and answers the copies deleted and the
-- agent's machine (for the audit event; NULL for a device). The transaction commits without
-- waiting for its WAL flush (synchronous_commit off, this transaction only): an acknowledgement
-- lost in a crash only brings copies back, which clients drop by id. SECURITY INVOKER: it runs as
-- the request role under the workspace setting, so row-level security applies to every table it
-- reads or deletes from.
CREATE FUNCTION message_ack(recipient_kind text, recipient uuid, recipient_account uuid, ids uuid[])
  RETURNS TABLE (deleted integer, machine uuid)
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  active boolean;
  n integer;
BEGIN
  IF recipient_kind = 'agent' THEN
    SELECT a.machine_id INTO machine FROM control_plane.agents a
      JOIN control_plane.machines m ON m.id = a.machine_id
      WHERE a.id = recipient AND a.status = 'approved' AND m.revoked_at IS NULL;
    active := machine IS NOT NULL;
  ELSIF recipient_kind = 'device' THEN
    active := EXISTS (
      SELECT 1 FROM control_plane.devices d
        JOIN control_plane.members mb ON mb.account_id = d.account_id
        WHERE d.id = recipient AND d.account_id = recipient_account AND d.status = 'trusted');
  ELSE
    active := false;
  END IF;
  IF NOT active THEN
    RAISE EXCEPTION 'the recipient is not active' USING ERRCODE = 'UM002';
  END IF;
  PERFORM set_config('synchronous_commit', 'off', true);
  DELETE FROM control_plane.messages ms
    WHERE ms.recipient_id = recipient AND ms.id = ANY(ids);
  GET DIAGNOSTICS n = ROW_COUNT;
  deleted := n;
  RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION message_ack(text, uuid, uuid, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION message_ack(text, uuid, uuid, uuid[]) TO ${app_role};
