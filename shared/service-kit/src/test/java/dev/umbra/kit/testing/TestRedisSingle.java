package dev.umbra.kit.testing;

import java.net.URI;
import java.util.List;

/**
 * One Redis node of a test's own, on a free port, for faults the shared Redis must never suffer
 * ({@link #freeze}: SIGSTOP). Register it as {@code @RegisterExtension static final TestRedisSingle
 * redis = new TestRedisSingle();}.
 */
public final class TestRedisSingle extends RedisPerClass {
  private int port;

  @Override
  protected void start(RedisProcesses servers) {
    port = RedisProcesses.freePort(0);
    servers.start(port, List.of("--appendonly", "no"));
  }

  /** The node as {@code UMBRA_REDIS_URL} names it. */
  public URI url() {
    check();
    return URI.create("redis://127.0.0.1:" + port);
  }

  /** Freezes the node: its connections stay up, nothing answers (a half-open peer). */
  public void freeze() {
    servers().freeze(port);
  }

  /** Resumes the frozen node. */
  public void thaw() {
    servers().thaw(port);
  }
}
