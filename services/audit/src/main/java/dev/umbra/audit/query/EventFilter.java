package dev.umbra.audit.query;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Filters of a query or export, parsed from request parameters: {@code from} (inclusive) and {@code
 * to} (exclusive) as RFC 3339 or Unix milliseconds, {@code actor} (actor id, optionally {@code
 * kind:id}), {@code action} (one or more wire names, comma separated), {@code target}, {@code
 * outcome}, {@code order} ({@code desc}, newest first, or {@code asc}), {@code limit}, and the
 * opaque {@code cursor} of the previous page. Results are in chain order (sequence number).
 */
public record EventFilter(
    Optional<Long> fromMs,
    Optional<Long> toMs,
    Optional<String> actorKind,
    Optional<String> actorId,
    List<String> actions,
    Optional<String> target,
    Optional<String> outcome,
    boolean ascending,
    int limit,
    Optional<Long> afterSeq) {

  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 1_000;

  public static EventFilter parse(MultiMap params, int maxLimit, String defaultOrder) {
    Optional<Long> from = param(params, "from").map(v -> time("from", v));
    Optional<Long> to = param(params, "to").map(v -> time("to", v));
    Optional<String> actorKind = Optional.empty();
    Optional<String> actorId = param(params, "actor");
    if (actorId.isPresent() && actorId.get().contains(":")) {
      String[] parts = actorId.get().split(":", 2);
      if (AuditEventRules.actorKindFromWire(parts[0]).isPresent()) {
        actorKind = Optional.of(parts[0]);
        actorId = Optional.of(parts[1]);
      }
    }
    List<String> actions = new ArrayList<>();
    for (String raw : params.getAll("action")) {
      for (String a : raw.split(",")) {
        String name = a.trim();
        if (name.isEmpty()) {
          continue;
        }
        if (AuditAction.fromWire(name).isEmpty()) {
          throw ApiException.badRequest(
              "action", "unknown action '" + clip(name) + "'; see docs/audit.md");
        }
        actions.add(name);
      }
    }
    Optional<String> outcome = param(params, "outcome");
    if (outcome.isPresent() && AuditEventRules.outcomeFromWire(outcome.get()).isEmpty()) {
      throw ApiException.badRequest("outcome", "outcome must be success, failure or denied");
    }
    String order = param(params, "order").orElse(defaultOrder);
    if (!order.equals("asc") && !order.equals("desc")) {
      throw ApiException.badRequest("order", "order must be asc or desc");
    }
    int limit = DEFAULT_LIMIT;
    Optional<String> l = param(params, "limit");
    if (l.isPresent()) {
      try {
        limit = Integer.parseInt(l.get());
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > maxLimit) {
        throw ApiException.badRequest("limit", "limit must be an integer from 1 to " + maxLimit);
      }
    }
    boolean asc = order.equals("asc");
    Optional<Long> after = param(params, "cursor").map(c -> decodeCursor(c, asc));
    return new EventFilter(
        from,
        to,
        actorKind,
        actorId,
        List.copyOf(actions),
        param(params, "target"),
        outcome,
        asc,
        limit,
        after);
  }

  /** The cursor that continues after {@code seq} in this filter's order. */
  public String cursorAfter(long seq) {
    String json =
        new JsonObject().put("v", 1).put("o", ascending ? "asc" : "desc").put("s", seq).encode();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  public EventFilter withAfter(long seq) {
    return new EventFilter(
        fromMs,
        toMs,
        actorKind,
        actorId,
        actions,
        target,
        outcome,
        ascending,
        limit,
        Optional.of(seq));
  }

  public EventFilter withLimit(int newLimit) {
    return new EventFilter(
        fromMs, toMs, actorKind, actorId, actions, target, outcome, ascending, newLimit, afterSeq);
  }

  private static long decodeCursor(String cursor, boolean asc) {
    try {
      if (cursor.length() > 200) {
        throw new IllegalArgumentException("too long");
      }
      JsonObject o =
          new JsonObject(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      if (o.getInteger("v", 0) != 1 || !o.getString("o", "").equals(asc ? "asc" : "desc")) {
        throw new IllegalArgumentException("cursor of another order");
      }
      long seq = o.getLong("s");
      if (seq < 0) {
        throw new IllegalArgumentException("negative");
      }
      return seq;
    } catch (RuntimeException e) {
      throw ApiException.badRequest(
          "cursor", "cursor is not one this service returned for this order");
    }
  }

  private static Optional<String> param(MultiMap params, String name) {
    String v = params.get(name);
    if (v == null || v.isEmpty()) {
      return Optional.empty();
    }
    if (v.length() > AuditEventRules.MAX_TARGET_CHARS) {
      throw ApiException.badRequest(name, name + " is too long");
    }
    return Optional.of(v);
  }

  private static long time(String name, String v) {
    if (v.chars().allMatch(Character::isDigit) && v.length() <= 15) {
      return Long.parseLong(v);
    }
    try {
      return Instant.parse(v).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest(
          name, name + " must be RFC 3339 (2026-01-31T12:00:00Z) or Unix milliseconds");
    }
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
