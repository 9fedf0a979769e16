package dev.umbra.client.messaging;

import dev.umbra.client.http.ApiError;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Posts sends several at a time (docs/messaging.md, "Batches"): {@code POST /messages/batch} with
 * up to {@value #MAX_MESSAGES} sends and about {@value #MAX_CHARS} characters a request, each send
 * answered in its place. A send refused for a passing reason (5xx) or a request that failed is sent
 * again with the same id and ciphertexts (the server stores an id once); a send refused for good
 * (4xx) fails the call once the others are done. A server without the batch route (404/405 on it)
 * gets the sends one by one on {@code POST /messages}.
 */
final class SendBatches {
  static final int MAX_MESSAGES = 64;
  static final int MAX_CHARS = 768 * 1024;
  static final int ATTEMPTS = 3;

  private SendBatches() {}

  /** Posts {@code sends} (bodies of {@code POST /messages}) in order. */
  static void post(MessagingClient.Transport api, UUID workspace, List<JsonObject> sends) {
    List<String> refused = new ArrayList<>();
    for (List<JsonObject> chunk : chunks(sends)) {
      if (!postChunk(api, workspace, chunk, refused)) {
        chunk.forEach(s -> postOne(api, workspace, s));
      }
    }
    if (!refused.isEmpty()) {
      throw new IllegalStateException("messages refused: " + String.join("; ", refused));
    }
  }

  /** {@code sends} cut in order into requests within the limits. */
  static List<List<JsonObject>> chunks(List<JsonObject> sends) {
    List<List<JsonObject>> out = new ArrayList<>();
    List<JsonObject> current = new ArrayList<>();
    int chars = 0;
    for (JsonObject s : sends) {
      int size = s.encode().length();
      if (!current.isEmpty() && (current.size() == MAX_MESSAGES || chars + size > MAX_CHARS)) {
        out.add(current);
        current = new ArrayList<>();
        chars = 0;
      }
      current.add(s);
      chars += size;
    }
    if (!current.isEmpty()) {
      out.add(current);
    }
    return out;
  }

  /** Posts one chunk (resending what failed for a passing reason); false: no batch route. */
  private static boolean postChunk(
      MessagingClient.Transport api, UUID workspace, List<JsonObject> chunk, List<String> refused) {
    List<JsonObject> left = chunk;
    RuntimeException last = null;
    for (int attempt = 0; attempt < ATTEMPTS && !left.isEmpty(); attempt++) {
      JsonObject answer;
      try {
        answer =
            api.call(
                "POST",
                ControlPlanePaths.messagesBatch(workspace),
                new JsonObject().put("messages", new JsonArray(new ArrayList<>(left))));
      } catch (ApiError e) {
        if (attempt == 0 && (e.status() == 404 || e.status() == 405)) {
          return false;
        }
        if (e.status() >= 400 && e.status() < 500) {
          throw e;
        }
        last = e;
        continue;
      } catch (RuntimeException e) {
        last = e;
        continue;
      }
      left = again(left, answer, refused);
      last = null;
    }
    if (!left.isEmpty()) {
      throw last != null
          ? last
          : new IllegalStateException(left.size() + " messages not stored, try again");
    }
    return true;
  }

  /** The sends of {@code sent} to post again; refusals for good go to {@code refused}. */
  static List<JsonObject> again(List<JsonObject> sent, JsonObject answer, List<String> refused) {
    JsonArray results = answer.getJsonArray("results", new JsonArray());
    if (results.size() != sent.size()) {
      throw new IllegalStateException("the batch answer has no result for each message");
    }
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < sent.size(); i++) {
      JsonObject error = results.getJsonObject(i).getJsonObject("error");
      if (error == null) {
        continue;
      }
      if (error.getInteger("status", 500) >= 500) {
        out.add(sent.get(i));
      } else {
        refused.add(
            "message "
                + sent.get(i).getString("id")
                + ": "
                + error.getString("code", "refused")
                + " ("
                + error.getString("message", "")
                + ")");
      }
    }
    return out;
  }

  /** The single route, as before batches: resent on a passing failure, refused on a 4xx. */
  static void postOne(MessagingClient.Transport api, UUID workspace, JsonObject body) {
    RuntimeException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        api.call("POST", ControlPlanePaths.messages(workspace), body);
        return;
      } catch (ApiError e) {
        if (e.status() >= 400 && e.status() < 500) {
          throw e;
        }
        last = e;
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last;
  }
}
