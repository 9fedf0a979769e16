-- message_send looks up what each send names, and nothing else, whatever the statistics
-- (docs/messaging.md, "How a send is stored"). V38 made its plan once per connection, so a plan
-- chosen while a workspace's tables were young, or after an ANALYZE of a skewed table, stays for
-- the connection's life; and with V37's form the planner chose, for the sender's and the
-- recipients' device checks, a hashed subplan that read every trusted device of the workspace (with
-- its member) once per statement, and for the conversation, the sending agent and the
-- conversation's agent with their machines, scans of the workspace's conversations, agents and
-- machines (bitmap scans in a young database, index scans on workspace_id alone after an ANALYZE)
-- joined to the sends by a filter. Here every lookup is a subquery the planner cannot flatten into
-- a join (LATERAL ... LIMIT 1, or a scalar subquery for the device checks, the agents' machines and
-- the resend check: never hashed, never joined by a filter), so it runs once per send or copy with
-- that element's key, and sequential and bitmap scans are off so that each is an index probe:
-- conversations, agents, machines and devices by primary key, members by (workspace, account) under
-- row-level security, message_ids by primary key. The pending counts stay range scans of
-- messages_pending and messages_sender stopped at the quota. The answers are the same: each key
-- looked up is a primary key (LIMIT 1 drops nothing) or a member's account (one member per
-- workspace and account), and an absent device or claim reads as false, as EXISTS did. CREATE OR
-- REPLACE keeps the grants and replaces the function's settings: V38's plan_cache_mode is set again
-- here.
CREATE OR REPLACE FUNCTION message_send(
    wid uuid,
    send_ids uuid[], send_conversations uuid[], sender_kinds text[], sender_ids uuid[],
    sender_accounts uuid[],
    copy_sends bigint[], copy_recipients uuid[], copy_ciphertexts bytea[],
    stamp timestamptz, max_per_recipient int, max_per_sender int)
  RETURNS TABLE (refused text, machine uuid, account uuid, stranger uuid, fresh uuid[],
                 fresh_seqs bigint[], stored_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
  -- JIT off: the statement's estimated cost passes jit_above_cost, and compiling it on every call
  -- cost more than running it (MessagingBench, 2026-12-06: PostgreSQL CPU per message 646-794 us
  -- with JIT, 468 without; 1 513-1 719 msg/s, 2 030 without)
  SET jit = off
  -- planned once per connection (V38), whatever the statistics of that moment
  SET plan_cache_mode = force_generic_plan
  SET enable_seqscan = off
  SET enable_bitmapscan = off
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
          WHEN 'device' THEN COALESCE((
            SELECT true FROM control_plane.devices d
              JOIN control_plane.members mb ON mb.account_id = d.account_id
              WHERE d.id = s.sender AND d.account_id = s.account AND d.status = 'trusted'
              LIMIT 1), false)
          ELSE false
        END AS active,
        cv.id AS conv, cv.account_id AS conv_account, cv.agent_id AS conv_agent,
        cva.id IS NOT NULL AS conv_agent_active
      FROM s
      LEFT JOIN LATERAL (
        SELECT a.machine_id FROM control_plane.agents a
          WHERE s.kind = 'agent' AND a.id = s.sender AND a.status = 'approved'
            AND (SELECT m.revoked_at IS NULL FROM control_plane.machines m
                 WHERE m.id = a.machine_id)
          LIMIT 1) ag ON true
      LEFT JOIN LATERAL (
        SELECT cv.id, cv.account_id, cv.agent_id FROM control_plane.conversations cv
          WHERE cv.id = s.conv
            AND CASE s.kind WHEN 'agent' THEN cv.agent_id = s.sender
                            ELSE cv.account_id = s.account END
          LIMIT 1) cv ON true
      -- the conversation's agent, if still approved and its machine not revoked
      LEFT JOIN LATERAL (
        SELECT a.id FROM control_plane.agents a
          WHERE a.id = cv.agent_id AND a.status = 'approved'
            AND (SELECT m.revoked_at IS NULL FROM control_plane.machines m
                 WHERE m.id = a.machine_id)
          LIMIT 1) cva ON true),
    -- each copy, and whether its recipient is an active principal of the other side
    p AS (
      SELECT c.ord, c.send, c.recipient, c.ct, k.id, k.kind, k.sender, k.conv,
        COALESCE(CASE k.kind
          WHEN 'device' THEN c.recipient = k.conv_agent AND k.conv_agent_active
          ELSE (
            SELECT true FROM control_plane.devices d
              JOIN control_plane.members mb ON mb.account_id = d.account_id
              WHERE d.id = c.recipient AND d.account_id = k.conv_account
                AND d.status = 'trusted'
              LIMIT 1)
        END, false) AS party
      FROM c JOIN k ON k.ord = c.send),
    v0 AS (
      SELECT k.ord, k.id, k.sender, k.machine, k.conv_account,
        CASE WHEN NOT k.active THEN 'principal_not_active'
             WHEN k.conv IS NULL THEN 'conversation'
             WHEN x.recipient IS NOT NULL THEN 'not_a_party' END AS refused,
        x.recipient AS stranger
      FROM k LEFT JOIN LATERAL (
        SELECT p.recipient FROM p WHERE p.send = k.ord AND NOT p.party ORDER BY p.ord LIMIT 1
      ) x ON true),
    -- the copies waiting for each recipient and from each sender of the group, counted up to the
    -- quota (messages_pending, messages_sender: a range scan that stops at the quota)
    pr AS (
      SELECT r.recipient, (SELECT count(*) FROM (SELECT 1 FROM control_plane.messages m
          WHERE m.workspace_id = wid AND m.recipient_id = r.recipient
          LIMIT max_per_recipient) y) AS n
      FROM (SELECT DISTINCT c.recipient FROM c) r),
    ps AS (
      SELECT d.sender, (SELECT count(*) FROM (SELECT 1 FROM control_plane.messages m
          WHERE m.workspace_id = wid AND m.sender_id = d.sender
          LIMIT max_per_sender) y) AS n
      FROM (SELECT DISTINCT s.sender FROM s) d),
    -- the new copies of the sends the checks accept (a resend's claim exists: not counted), with
    -- the running count of the group's copies to the recipient and from the sender up to and with
    -- the copy's send
    q AS (
      SELECT p.send, p.recipient, p.sender,
        count(*) OVER (PARTITION BY p.recipient ORDER BY p.send) AS to_recipient,
        count(*) OVER (PARTITION BY p.sender ORDER BY p.send) AS from_sender
      FROM p JOIN v0 ON v0.ord = p.send
      WHERE v0.refused IS NULL AND (
        SELECT true FROM control_plane.message_ids mi
          WHERE mi.workspace_id = wid AND mi.id = p.id AND mi.recipient_id = p.recipient
          LIMIT 1) IS NULL),
    full_sends AS (
      SELECT q.send,
        bool_or(pr.n + q.to_recipient > max_per_recipient) AS recipient_full,
        bool_or(ps.n + q.from_sender > max_per_sender) AS sender_full
      FROM q JOIN pr ON pr.recipient = q.recipient JOIN ps ON ps.sender = q.sender
      GROUP BY q.send),
    v AS (
      SELECT v0.ord, v0.id, v0.sender, v0.machine, v0.conv_account, v0.stranger,
        COALESCE(v0.refused,
          CASE WHEN f.recipient_full THEN 'recipient_pending_full'
               WHEN f.sender_full THEN 'sender_pending_full' END) AS refused
      FROM v0 LEFT JOIN full_sends f ON f.send = v0.ord),
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
