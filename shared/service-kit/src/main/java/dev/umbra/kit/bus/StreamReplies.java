package dev.umbra.kit.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Response;
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
}
