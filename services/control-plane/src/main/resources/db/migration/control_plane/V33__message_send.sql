-- A send checked and stored in one statement (docs/messaging.md, "How a send is stored"): the
-- control plane sends BEGIN, the workspace setting, one call of this function and COMMIT without
-- waiting for any answer (one round trip). For each send (arrays in step, in the order the sends
-- are stored) it checks what the control plane checked between two round trips before: the sender
-- still active (an approved agent whose machine is not revoked, or a trusted device of a member of
-- the workspace), the conversation one of the sender's, every copy for an active principal of its
-- other side; a send that fails a check stores nothing. The others claim each (id, recipient) in
-- message_ids and store the copies whose claim is new (in order: seq follows it). It answers one
-- row per send, in order: the refusal (NULL when accepted; for not_a_party the first copy's
-- recipient that is not a party), the agent's machine, the conversation's member, the
-- recipients newly stored with their copies' seq (in step) and the copies' created_at as stored
-- (what a message notice carries: docs/messaging.md, "Notices on the bus"). Then, as its own statement (a VOLATILE function takes a fresh snapshot
-- per statement, so it sees the claims of other senders the claim waited for),
-- message_ids_check_senders (V32) raises UM001 when another sender holds an accepted send's id: the
-- transaction is aborted and its COMMIT rolls back. SECURITY INVOKER: it runs as the request role
-- under the workspace setting, so row-level security applies to every table it reads or writes.
CREATE FUNCTION message_send(
    wid uuid,
    send_ids uuid[], send_conversations uuid[], sender_kinds text[], sender_ids uuid[],
    sender_accounts uuid[],
    copy_sends bigint[], copy_recipients uuid[], copy_ciphertexts bytea[],
    stamp timestamptz)
  RETURNS TABLE (refused text, machine uuid, account uuid, stranger uuid, fresh uuid[],
                 fresh_seqs bigint[], stored_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  r record;
  ok_ids uuid[] := '{}';
  ok_senders uuid[] := '{}';
BEGIN
  FOR r IN
    WITH s AS (
      SELECT u.id, u.conv, u.kind, u.sender, u.account, u.ord
      FROM unnest(send_ids, send_conversations, sender_kinds, sender_ids, sender_accounts)
        WITH ORDINALITY AS u(id, conv, kind, sender, account, ord)),
    c AS (
      SELECT u.send, u.recipient, u.ct, u.ord
      FROM unnest(copy_sends, copy_recipients, copy_ciphertexts)
        WITH ORDINALITY AS u(send, recipient, ct, ord)),
    -- the sender's party check and the conversation, if it is one of the sender's
    k AS (
      SELECT s.ord, s.id, s.kind, s.sender, s.account, ag.machine_id AS machine,
        CASE s.kind
          WHEN 'agent' THEN ag.machine_id IS NOT NULL
          WHEN 'device' THEN EXISTS (
            SELECT 1 FROM control_plane.devices d
              JOIN control_plane.members mb ON mb.account_id = d.account_id
              WHERE d.id = s.sender AND d.account_id = s.account AND d.status = 'trusted')
          ELSE false
        END AS active,
        cv.id AS conv, cv.account_id AS conv_account, cv.agent_id AS conv_agent,
        cva.id IS NOT NULL AS conv_agent_active
      FROM s
      LEFT JOIN LATERAL (
        SELECT a.machine_id FROM control_plane.agents a
          JOIN control_plane.machines m ON m.id = a.machine_id
          WHERE s.kind = 'agent' AND a.id = s.sender AND a.status = 'approved'
            AND m.revoked_at IS NULL) ag ON true
      LEFT JOIN control_plane.conversations cv
        ON cv.id = s.conv
        AND CASE s.kind WHEN 'agent' THEN cv.agent_id = s.sender
                        ELSE cv.account_id = s.account END
      -- the conversation's agent, if still approved and its machine not revoked
      LEFT JOIN LATERAL (
        SELECT a.id FROM control_plane.agents a
          JOIN control_plane.machines m ON m.id = a.machine_id
          WHERE a.id = cv.agent_id AND a.status = 'approved' AND m.revoked_at IS NULL) cva
        ON true),
    -- each copy, and whether its recipient is an active principal of the other side
    p AS (
      SELECT c.ord, c.send, c.recipient, c.ct, k.id, k.kind, k.sender, k.conv,
        COALESCE(CASE k.kind
          WHEN 'device' THEN c.recipient = k.conv_agent AND k.conv_agent_active
          ELSE EXISTS (
            SELECT 1 FROM control_plane.devices d
              JOIN control_plane.members mb ON mb.account_id = d.account_id
              WHERE d.id = c.recipient AND d.account_id = k.conv_account
                AND d.status = 'trusted')
        END, false) AS party
      FROM c JOIN k ON k.ord = c.send),
    v AS (
      SELECT k.ord, k.id, k.sender, k.machine, k.conv_account,
        CASE WHEN NOT k.active THEN 'principal_not_active'
             WHEN k.conv IS NULL THEN 'conversation'
             WHEN x.recipient IS NOT NULL THEN 'not_a_party' END AS refused,
        x.recipient AS stranger
      FROM k LEFT JOIN LATERAL (
        SELECT p.recipient FROM p WHERE p.send = k.ord AND NOT p.party ORDER BY p.ord LIMIT 1
      ) x ON true),
    claimed AS (
      INSERT INTO control_plane.message_ids
        (workspace_id, id, recipient_id, sender_id, created_at)
      SELECT wid, p.id, p.recipient, p.sender, stamp
      FROM p JOIN v ON v.ord = p.send WHERE v.refused IS NULL
      ON CONFLICT DO NOTHING RETURNING id, recipient_id),
    stored AS (
      INSERT INTO control_plane.messages (workspace_id, id, conversation_id, sender_kind,
        sender_id, recipient_kind, recipient_id, ciphertext, created_at)
      SELECT wid, p.id, p.conv, p.kind, p.sender,
        CASE p.kind WHEN 'agent' THEN 'device' ELSE 'agent' END, p.recipient, p.ct, stamp
      FROM p JOIN claimed cl ON cl.id = p.id AND cl.recipient_id = p.recipient ORDER BY p.ord
      RETURNING id, recipient_id, seq)
    SELECT v.id, v.sender, v.refused, v.machine, v.conv_account, v.stranger,
      ARRAY(SELECT st.recipient_id FROM stored st WHERE st.id = v.id ORDER BY st.seq) AS fresh,
      ARRAY(SELECT st.seq FROM stored st WHERE st.id = v.id ORDER BY st.seq) AS fresh_seqs
    FROM v ORDER BY v.ord
  LOOP
    IF r.refused IS NULL THEN
      ok_ids := ok_ids || r.id;
      ok_senders := ok_senders || r.sender;
    END IF;
    refused := r.refused;
    machine := r.machine;
    account := r.conv_account;
    stranger := r.stranger;
    fresh := r.fresh;
    fresh_seqs := r.fresh_seqs;
    stored_at := stamp;
    RETURN NEXT;
  END LOOP;
  PERFORM control_plane.message_ids_check_senders(ok_ids, ok_senders);
END
$$;
REVOKE ALL ON FUNCTION message_send(uuid, uuid[], uuid[], text[], uuid[], uuid[], bigint[],
  uuid[], bytea[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION message_send(uuid, uuid[], uuid[], text[], uuid[], uuid[], bigint[],
  uuid[], bytea[], timestamptz) TO ${app_role};
