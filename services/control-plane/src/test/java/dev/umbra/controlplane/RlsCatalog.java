package dev.umbra.controlplane;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Reads PostgreSQL's catalog: which tables of a schema have workspace_id, and their RLS flags. */
final class RlsCatalog {
  private RlsCatalog() {}

  static List<String> tenantTables(Connection conn, String schema) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                + "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                + "WHERE c.table_schema = ? AND c.column_name = 'workspace_id' AND t.table_type = 'BASE TABLE' ORDER BY 1")) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /**
   * Tables with workspace_id whose row-level security is not both enabled and forced, or that have
   * no policy.
   */
  static List<String> tablesWithoutForcedRls(Connection conn, String schema) throws SQLException {
    List<String> bad = new ArrayList<>();
    for (String t : tenantTables(conn, schema)) {
      try (PreparedStatement ps =
          conn.prepareStatement(
              "SELECT c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                  + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
        ps.setString(1, schema);
        ps.setString(2, t);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (!rs.getBoolean(1) || !rs.getBoolean(2) || rs.getLong(3) == 0) {
            bad.add(t);
          }
        }
      }
    }
    return bad;
  }
}
