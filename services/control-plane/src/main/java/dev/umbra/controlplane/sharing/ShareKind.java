package dev.umbra.controlplane.sharing;

/**
 * What can be shared with a team, with its share table and the table of the resource (the share
 * table's composite foreign keys keep a share inside one workspace).
 */
public enum ShareKind {
  PLAN("plan", "plan_shares", "SELECT author_kind, author_id FROM plans WHERE id = $1"),
  INBOX_ITEM(
      "inbox_item",
      "inbox_shares",
      "SELECT CASE WHEN agent_id IS NULL THEN 'machine' ELSE 'agent' END AS author_kind,"
          + " COALESCE(agent_id, machine_id) AS author_id FROM inbox_items WHERE id = $1"),
  MACHINE(
      "machine",
      "machine_shares",
      "SELECT NULL::text AS author_kind, NULL::uuid AS author_id FROM machines WHERE id = $1");

  private final String wire;
  private final String shareTable;
  private final String authorQuery;

  ShareKind(String wire, String shareTable, String authorQuery) {
    this.wire = wire;
    this.shareTable = shareTable;
    this.authorQuery = authorQuery;
  }

  /** The audit target kind, e.g. {@code plan}. */
  public String wire() {
    return wire;
  }

  String shareTable() {
    return shareTable;
  }

  /** The resource's author ({@code author_kind}, {@code author_id}; null for a machine). */
  String authorQuery() {
    return authorQuery;
  }

  /**
   * SQL true when the row {@code alias.id} is shared with a team whose members include the member
   * of parameter {@code $memberParam}.
   */
  public String sharedWithMember(String alias, int memberParam) {
    return "EXISTS (SELECT 1 FROM "
        + shareTable
        + " s JOIN team_members tm ON tm.team_id = s.team_id WHERE s.resource_id = "
        + alias
        + ".id AND tm.member_id = $"
        + memberParam
        + ")";
  }
}
