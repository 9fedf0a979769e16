package dev.umbra.kit.log;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * A logback appender that keeps the most recent formatted lines in memory for {@code GET
 * /admin/logs}. Bounded: the oldest line is dropped when full.
 */
public final class LogRing extends AppenderBase<ILoggingEvent> {
  public static final String APPENDER_NAME = "RING";

  private final ArrayDeque<String> lines = new ArrayDeque<>();
  private int capacity = 2000;
  private Encoder<ILoggingEvent> encoder;

  public void setCapacity(int capacity) {
    this.capacity = capacity;
  }

  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  @Override
  public void start() {
    if (encoder != null && !encoder.isStarted()) {
      encoder.start();
    }
    super.start();
  }

  @Override
  protected void append(ILoggingEvent event) {
    String line =
        encoder == null
            ? event.getFormattedMessage()
            : new String(encoder.encode(event), StandardCharsets.UTF_8).stripTrailing();
    synchronized (lines) {
      if (lines.size() >= capacity) {
        lines.removeFirst();
      }
      lines.addLast(line);
    }
  }

  /** The most recent lines, oldest first, at most {@code limit}. */
  public List<String> recent(int limit) {
    synchronized (lines) {
      List<String> all = new ArrayList<>(lines);
      return all.subList(Math.max(0, all.size() - limit), all.size());
    }
  }

  /** The ring configured in logback.xml, or an empty one when logging is configured otherwise. */
  public static LogRing installed() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
      Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      if (root.getAppender(APPENDER_NAME) instanceof LogRing ring) {
        return ring;
      }
    }
    return new LogRing();
  }
}
