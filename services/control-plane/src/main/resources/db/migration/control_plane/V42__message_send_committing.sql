-- A group of sends by devices is one statement that is its own transaction (docs/messaging.md, "How
-- a send is stored"): the workspace setting, message_send (V39), the sends' audit rows
-- (audit_outbox_insert, V41) in one function call, sent without BEGIN, so PostgreSQL commits it when
-- the call succeeds (and rolls all of it back when it raises) and answers once, after the commit.
-- The transaction it replaces was four messages — BEGIN with the setting, the send, the audit rows,
-- SELECT 1 with COMMIT — each answered and flushed on its own, and each answer woke the control
-- plane's event loop onto the vCPU where PostgreSQL went on running the rest: on the 2-vCPU
-- machines we measure on, that event loop waited about 0.9 ms a message runnable for a CPU
-- (MessagingBench's schedstat lines, 2026-12-07). The setting is local to the transaction, so it
-- ends with this statement; called inside a transaction block it would hold until that block ends,
-- which the caller (Database.ownTransaction) never does. An agent's sends keep the transaction:
-- their webhook signals are queued after the send's answer, before the COMMIT. Row-level security
-- applies (SECURITY INVOKER), to the setting made here.
CREATE FUNCTION message_send_committing(
    wid uuid,
    send_ids uuid[], send_conversations uuid[], sender_kinds text[], sender_ids uuid[],
    sender_accounts uuid[],
    copy_sends bigint[], copy_recipients uuid[], copy_ciphertexts bytea[],
    stamp timestamptz, max_per_recipient int, max_per_sender int,
    audit_send_ids uuid[], audit_event_ids text[], audit_events bytea[], audit_agents uuid[])
  RETURNS TABLE (refused text, machine uuid, account uuid, stranger uuid, fresh uuid[],
                 fresh_seqs bigint[], stored_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
AS $$
BEGIN
  PERFORM set_config('umbra.workspace_id', wid::text, true);
  RETURN QUERY SELECT s.refused, s.machine, s.account, s.stranger, s.fresh, s.fresh_seqs,
      s.stored_at
    FROM control_plane.message_send(wid, send_ids, send_conversations, sender_kinds, sender_ids,
      sender_accounts, copy_sends, copy_recipients, copy_ciphertexts, stamp, max_per_recipient,
      max_per_sender) AS s;
  PERFORM control_plane.audit_outbox_insert(wid, stamp, audit_send_ids, audit_event_ids,
    audit_events, audit_agents);
END
$$;
REVOKE ALL ON FUNCTION message_send_committing(uuid, uuid[], uuid[], text[], uuid[], uuid[],
    bigint[], uuid[], bytea[], timestamptz, int, int, uuid[], text[], bytea[], uuid[])
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION message_send_committing(uuid, uuid[], uuid[], text[], uuid[], uuid[],
    bigint[], uuid[], bytea[], timestamptz, int, int, uuid[], text[], bytea[], uuid[])
  TO ${app_role};
