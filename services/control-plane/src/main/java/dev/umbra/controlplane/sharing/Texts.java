package dev.umbra.controlplane.sharing;

import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Input rules of agent work's text: multi-line text (markdown) may hold new lines and tabs but no
 * other control character; lists are bounded; team ids are UUIDs, each once.
 */
public final class Texts {
  private Texts() {}

  /** Multi-line text of {@code min..max} characters; absent is {@code Optional.empty()}. */
  public static Optional<String> multiline(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw ApiException.badRequest(field, field + " must be a string");
    }
    if (s.length() < min || s.length() > max) {
      throw ApiException.badRequest(
          field, field + " must be " + min + " to " + max + " characters");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t') {
        throw ApiException.badRequest(field, field + " must not contain control characters");
      }
    }
    return Optional.of(s);
  }

  /** A list of at most {@code maxItems} one-line strings of 1..{@code maxChars} characters. */
  public static List<String> strings(JsonObject body, String field, int maxItems, int maxChars) {
    Object v = body.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a) || a.size() > maxItems) {
      throw ApiException.badRequest(
          field, field + " must be an array of at most " + maxItems + " strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      out.add(Requests.string(new JsonObject().put(field, a.getValue(i)), field, 1, maxChars));
    }
    return List.copyOf(out);
  }

  /** A list of at most {@code max} distinct UUIDs. */
  public static List<UUID> uuids(JsonObject body, String field, int max) {
    LinkedHashSet<UUID> out = new LinkedHashSet<>();
    for (String s : strings(body, field, max, 36)) {
      out.add(Requests.uuid(s, field));
    }
    return List.copyOf(out);
  }
}
