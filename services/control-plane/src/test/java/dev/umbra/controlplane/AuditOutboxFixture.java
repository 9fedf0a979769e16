package dev.umbra.controlplane;

import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.testing.TcpProxy;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Vertx;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the audit outbox tests share: a cut-off instance, the outbox's rows, the stream's events.
 */
final class AuditOutboxFixture {
  private AuditOutboxFixture() {}

  /**
   * An instance of {@code a}'s deployment whose Redis link is cut, so its appends never leave; it
   * and its proxy are added to {@code closing}.
   */
  static Harness cutOffFromRedis(Vertx vertx, Harness a, List<AutoCloseable> closing)
      throws Exception {
    TcpProxy p = new TcpProxy(TestRedis.url().getPort());
    closing.add(p);
    Harness c = new Harness(vertx, a, Map.of(), URI.create("redis://127.0.0.1:" + p.port()));
    closing.add(c);
    p.partition();
    p.sever();
    return c;
  }

  /** The {@code action} events on {@code target} in {@code a}'s audit stream. */
  static List<AuditEvent> events(Harness a, String action, String target) {
    List<AuditEvent> out = new ArrayList<>();
    try {
      for (var e : MessagingFixture.await(a.bus.range(BusNames.AUDIT_INGEST, "0-0", 10_000))) {
        AuditEvent event = AuditEvent.parseFrom(e.body().getBytes());
        if (event.getAction().equals(action) && event.getTarget().equals(target)) {
          out.add(event);
        }
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    return out;
  }

  /** The outbox's rows, all workspaces. */
  static long rows(Harness a) {
    try (Connection c = a.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM control_plane.audit_outbox")) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
