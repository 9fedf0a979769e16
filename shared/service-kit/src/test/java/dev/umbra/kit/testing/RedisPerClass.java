package dev.umbra.kit.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Redis servers for one test class ({@link TestRedisCluster}, {@link TestRedisSentinel}): started
 * before the class's {@code @BeforeAll} methods, stopped with their temporary directory after its
 * last test. Register a subclass as a {@code @RegisterExtension static final} field.
 */
public abstract class RedisPerClass implements BeforeAllCallback, AfterAllCallback {
  private RedisProcesses servers;

  /** Starts the servers and waits until they are ready. */
  protected abstract void start(RedisProcesses servers);

  @Override
  public final void beforeAll(ExtensionContext context) {
    servers = new RedisProcesses();
    start(servers);
  }

  @Override
  public final void afterAll(ExtensionContext context) {
    if (servers != null) {
      servers.close();
      servers = null;
    }
  }

  /** Sends one command to the node on {@code port} (see {@link RedisProcesses#command}). */
  public final String command(int port, String... args) {
    check();
    return RedisProcesses.command(port, args);
  }

  /** The servers, to stop one ({@link RedisProcesses#kill}). */
  protected final RedisProcesses servers() {
    check();
    return servers;
  }

  protected final void check() {
    if (servers == null) {
      throw new IllegalStateException(
          getClass().getSimpleName()
              + " is used outside its test class (register it as a static field)");
    }
  }
}
