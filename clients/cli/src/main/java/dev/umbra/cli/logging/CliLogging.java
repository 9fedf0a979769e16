package dev.umbra.cli.logging;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J backend of one-shot CLI commands (docs/cli.md, "Start-up"): lines of {@code level}
 * ({@code UMBRA_LOG_LEVEL}, default WARN) and above go to stderr in the services' pattern (time,
 * level, thread, logger, message); nothing else is loaded. Logback reads and compiles its XML
 * configuration at the first logger, which cost a short command a quarter of its run; a CLI prints
 * its results itself and needs a log only for the rare warning of a library (Vert.x, Netty).
 * Selected with the system property {@code slf4j.provider} before the first logger exists ({@link
 * #install()}); {@code umbra dev} and {@code umbra daemon run} keep logback.
 */
public final class CliLogging implements SLF4JServiceProvider {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX", Locale.ROOT)
          .withZone(ZoneOffset.UTC);
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();
  private ILoggerFactory factory;

  /**
   * Makes this the SLF4J backend of this JVM, unless one was named already; call before any logger
   * is made.
   */
  public static void install() {
    if (System.getProperty("slf4j.provider") == null) {
      System.setProperty("slf4j.provider", CliLogging.class.getName());
      // SLF4J reports an explicitly named provider on stderr at its INFO level
      if (System.getProperty("slf4j.internal.verbosity") == null) {
        System.setProperty("slf4j.internal.verbosity", "WARN");
      }
    }
  }

  /**
   * The threshold named by {@code UMBRA_LOG_LEVEL} (system property first, then the environment);
   * WARN when unset or unknown.
   */
  static Level threshold(String configured) {
    if (configured != null) {
      for (Level l : Level.values()) {
        if (l.name().equalsIgnoreCase(configured.trim())) {
          return l;
        }
      }
      if (configured.trim().equalsIgnoreCase("OFF")) {
        return null;
      }
    }
    return Level.WARN;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    String configured = System.getProperty("UMBRA_LOG_LEVEL", System.getenv("UMBRA_LOG_LEVEL"));
    Level threshold = threshold(configured);
    factory = name -> new StderrLogger(name, threshold, System.err);
  }

  /** One logger: formats and prints at or above the threshold (null: nothing). */
  static final class StderrLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    private final transient Level threshold;
    private final transient PrintStream out;

    StderrLogger(String name, Level threshold, PrintStream out) {
      this.name = name;
      this.threshold = threshold;
      this.out = out;
    }

    private boolean on(Level l) {
      return threshold != null && l.toInt() >= threshold.toInt();
    }

    @Override
    public boolean isTraceEnabled() {
      return on(Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
      return on(Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
      return on(Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
      return on(Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
      return on(Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] args, Throwable t) {
      String message = MessageFormatter.basicArrayFormat(pattern, args);
      StringBuilder line =
          new StringBuilder(96)
              .append(TIME.format(Instant.now()))
              .append(' ')
              .append(String.format(Locale.ROOT, "%-5s", level))
              .append(" [")
              .append(Thread.currentThread().getName())
              .append("] ")
              .append(name)
              .append(" - ")
              .append(message);
      synchronized (out) {
        out.println(line);
        if (t != null) {
          t.printStackTrace(out);
        }
      }
    }
  }

  /** For tests: a logger of this backend writing to {@code out}. */
  static Logger logger(String name, Level threshold, PrintStream out) {
    return new StderrLogger(name, threshold, out);
  }
}
