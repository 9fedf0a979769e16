package dev.umbra.proto.api;

/**
 * The audit service's paths (docs/audit.md), in one place for the service and its clients (the
 * CLI's {@code umbra audit}). Templates as in {@link ControlPlanePaths}; the audit service mounts
 * each through {@link PathTemplates#vertxRoute}.
 */
public final class AuditPaths {
  /** The workspace's audit log; the operations below are under it. */
  public static final String AUDIT = "/v1/workspaces/{workspace}/audit";

  /** Events, filtered and paged by cursor. */
  public static final String EVENTS = AUDIT + "/events";

  /** Every matching event as JSON lines (audited). */
  public static final String EXPORT = AUDIT + "/export";

  /** The hash chain checked, naming the first broken link (audited). */
  public static final String VERIFY = AUDIT + "/verify";

  /** Live events: server-sent events or a WebSocket. */
  public static final String TAIL = AUDIT + "/tail";

  /** Operators: events the service could not store (admin token). */
  public static final String DEAD_LETTERS = "/v1/admin/audit/dead-letters";

  /** Operators: stores a dead letter again. */
  public static final String REDRIVE = DEAD_LETTERS + "/{entry_id}/redrive";

  private AuditPaths() {}

  /** {@link #AUDIT} of {@code workspace} followed by {@code /<operation>} (events, export, ...). */
  public static String audit(Object workspace, String operation) {
    return PathTemplates.fill(AUDIT, workspace) + "/" + operation;
  }
}
