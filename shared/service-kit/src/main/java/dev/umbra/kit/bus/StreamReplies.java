package dev.umbra.kit.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Redis stream replies ({@code XRANGE}, {@code XREADGROUP}, {@code XAUTOCLAIM}) as entries. */
final class StreamReplies {
  private StreamReplies() {}

  /**
   * Adds each entry of {@code entries} that has a body field {@code d} to {@code out}, with its
   * delivery count from {@code counts} (1 when absent); entries deleted by trimming are skipped.
   */
  static void parseEntries(Response entries, List<StreamEntry> out, Map<String, Long> counts) {
    if (entries == null) {
      return;
    }
    for (Response e : entries) {
      if (e == null || e.get(1) == null) {
        continue; // deleted by trimming
      }
      String id = e.get(0).toString();
      Response fields = e.get(1);
      Buffer body = null;
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        if ("d".equals(fields.get(i).toString())) {
          body = fields.get(i + 1).toBuffer();
        }
      }
      if (body != null) {
        out.add(new StreamEntry(id, body, counts.getOrDefault(id, 1L)));
      }
    }
  }

  /** {@code XPENDING} of {@code consumer}'s entries, enough of them for {@code count} claimed. */
  static Request pending(String key, String group, String consumer, int count) {
    return Request.cmd(Command.XPENDING)
        .arg(key)
        .arg(group)
        .arg("-")
        .arg("+")
        .arg(Math.max(count, 1) * 4L)
        .arg(consumer);
  }

  /** Each pending entry's id with how often it was delivered, from an {@code XPENDING} reply. */
  static Map<String, Long> deliveryCounts(Response r) {
    Map<String, Long> m = new HashMap<>();
    if (r != null) {
      for (Response p : r) {
        m.put(p.get(0).toString(), p.get(3).toLong());
      }
    }
    return m;
  }
}
