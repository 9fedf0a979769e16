package dev.umbra.controlplane.http;

import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Cursor pagination: {@code ?limit=1..200} (default 50) and {@code ?cursor=<id>}, the last id of
 * the previous page; lists are ordered by id (time-ordered UUIDs). Responses are {@code
 * {"items":[...],"next_cursor":id|null}}. Queries fetch {@code limit + 1} rows to know whether
 * there is a next page.
 */
public record Page(int limit, UUID after) {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;
  private static final UUID MIN = new UUID(0, 0);

  public static Page of(RoutingContext ctx) {
    String l = ctx.request().getParam("limit");
    int limit = DEFAULT_LIMIT;
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("limit", "limit must be an integer from 1 to " + MAX_LIMIT);
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw ApiException.badRequest("limit", "limit must be an integer from 1 to " + MAX_LIMIT);
      }
    }
    String c = ctx.request().getParam("cursor");
    UUID after = c == null || c.isEmpty() ? MIN : Requests.uuid(c, "cursor");
    return new Page(limit, after);
  }

  /** Rows to fetch ({@code limit + 1}). */
  public int fetch() {
    return limit + 1;
  }

  /** The response body from up to {@code limit + 1} rows. */
  public <T> JsonObject render(List<T> rows, Function<T, UUID> id, Function<T, JsonObject> json) {
    JsonArray items = new JsonArray();
    for (int i = 0; i < Math.min(limit, rows.size()); i++) {
      items.add(json.apply(rows.get(i)));
    }
    String next = rows.size() > limit ? id.apply(rows.get(limit - 1)).toString() : null;
    return new JsonObject().put("items", items).put("next_cursor", next);
  }
}
