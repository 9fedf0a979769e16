package dev.umbra.kit.bus;

import java.util.UUID;

/**
 * Every bus channel and stream name of the platform, in one place (issue 16): the services agree on
 * these names across processes, so a name written twice is a protocol that can drift. All start
 * with {@link Bus#NAME_PREFIX}. Workspaces are UUIDs and targets, servers, sessions and instances
 * are validated to {@code [A-Za-z0-9._:-]} where they enter, so names cannot collide or hold glob
 * characters.
 */
public final class BusNames {
  private BusNames() {}

  /** Pub/sub channel of {@code umbra.v1.Revocation} messages, to every service. */
  public static final String REVOCATIONS = "umbra.revocations";

  /**
   * Durable stream of the same revocations, read at start and polled to catch what pub/sub lost.
   */
  public static final String REVOCATIONS_LOG = "umbra.revocations.log";

  /** Stream every service appends audit events to; the audit service consumes it. */
  public static final String AUDIT_INGEST = "umbra.audit.ingest";

  /**
   * Prefix of the per-workspace live tail of appended audit events: {@code
   * umbra.audit.<workspace>}.
   */
  public static final String AUDIT_LIVE_PREFIX = "umbra.audit.";

  /** Live tail of one workspace's audit events. */
  public static String auditLive(String workspace) {
    return AUDIT_LIVE_PREFIX + workspace;
  }

  /** Relay: towards the instance holding the daemon of a target. */
  public static String relayTarget(String workspace, String target) {
    return "umbra.relay.t." + workspace + "." + target;
  }

  /** Relay: towards the instance holding the client of a channel. */
  public static String relayChannel(String workspace, String target, long channel) {
    return "umbra.relay.c." + workspace + "." + target + "." + Long.toHexString(channel);
  }

  /**
   * Relay mesh: presence key naming the instance that holds the daemon of a target (expiring). The
   * workspace is a hash tag, so a workspace's keys share one Cluster slot.
   */
  public static String relayPresence(String workspace, String target) {
    return "umbra.relay.p.{" + workspace + "}." + target;
  }

  /** Relay mesh: presence key holding a relay instance's mesh URL (expiring). */
  public static String relayInstance(String instance) {
    return "umbra.relay.i." + instance;
  }

  /**
   * Relay mesh: takeover notices (a daemon registered on some instance), so every instance drops
   * its cached route for that target.
   */
  public static final String RELAY_ROUTES = "umbra.relay.routes";

  /** WebTTY engine: frames for whatever an engine instance holds. */
  public static String webttyInstance(String instance) {
    return "umbra.webtty.inst." + instance;
  }

  /**
   * WebTTY engine: takeover notices (a session's new home after an engine failover), so every edge
   * moves the participants it still routes to the session's old home.
   */
  public static final String WEBTTY_TAKEOVERS = "umbra.webtty.takeovers";

  /** WebTTY engine: towards the instance holding a machine's (server's) connection. */
  public static String webttyServer(UUID workspace, String serverId) {
    return "umbra.webtty.srv." + workspace + "." + serverId;
  }

  /** WebTTY engine: one session's fan-out to the instances of its participants. */
  public static String webttySession(String sessionId) {
    return "umbra.webtty.sess." + sessionId;
  }

  /**
   * Control plane, owner-agent messaging: towards the instances holding a recipient's (device's or
   * agent's) live sockets; carries a MAC'd {@code umbra.v1.MessageNotice} (ids, and the stored
   * copy's ciphertext when small: docs/messaging.md, "Notices on the bus").
   */
  public static String messageRecipient(UUID workspace, UUID recipient) {
    return "umbra.msg.r." + workspace + "." + recipient;
  }

  /**
   * Control plane, agent inbox: an item was decided or took its default; carries nothing (the
   * waiting request reads the item again in PostgreSQL).
   */
  public static String inboxItem(UUID workspace, UUID item) {
    return "umbra.inbox." + workspace + "." + item;
  }
}
