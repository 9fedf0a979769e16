package dev.umbra.controlplane.inbox;

import dev.umbra.controlplane.sharing.Texts;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;

/**
 * What an inbox item may hold (docs/agents.md, "Inbox"): a question, its options, a default and
 * answers that fit its kind. Every failure is a 400 naming the member.
 */
final class InboxRules {
  static final int MAX_TEXT = 4096;
  static final int MAX_OPTIONS = 20;
  static final int MAX_OPTION = 200;
  static final long MIN_DEADLINE_S = 10;
  static final long MAX_DEADLINE_S = 7 * 24 * 3600;
  static final int MAX_TEAMS = 20;

  private InboxRules() {}

  static InboxItem.Question question(JsonObject body) {
    String kind = Requests.oneOf(body, "kind", null, "approve", "choose", "answer");
    String question =
        Texts.multiline(body, "question", 1, MAX_TEXT)
            .orElseThrow(() -> ApiException.badRequest("question", "question is required"));
    List<String> options = Texts.strings(body, "options", MAX_OPTIONS, MAX_OPTION);
    if ("choose".equals(kind)) {
      if (options.size() < 2 || new HashSet<>(options).size() != options.size()) {
        throw ApiException.badRequest(
            "options", "a choose item needs 2 to " + MAX_OPTIONS + " distinct options");
      }
    } else if (!options.isEmpty()) {
      throw ApiException.badRequest("options", "only a choose item has options");
    }
    Object d = body.getValue("default");
    if (!(d instanceof String def)) {
      throw ApiException.badRequest("default", "default is required (what the deadline decides)");
    }
    checkAnswer(kind, options, def, "default");
    Object s = body.getValue("deadline_seconds");
    if (!(s instanceof Number n)
        || n.doubleValue() != n.longValue()
        || n.longValue() < MIN_DEADLINE_S
        || n.longValue() > MAX_DEADLINE_S) {
      throw ApiException.badRequest(
          "deadline_seconds",
          "deadline_seconds must be an integer from " + MIN_DEADLINE_S + " to " + MAX_DEADLINE_S);
    }
    return new InboxItem.Question(
        kind, question, options, def, n.longValue(), Texts.uuids(body, "team_ids", MAX_TEAMS));
  }

  /** Fails unless {@code answer} fits an item of {@code kind} with {@code options}. */
  static void checkAnswer(String kind, List<String> options, String answer, String field) {
    boolean ok =
        switch (kind) {
          case "approve" -> "approve".equals(answer) || "deny".equals(answer);
          case "choose" -> options.contains(answer);
          default ->
              Texts.multiline(new JsonObject().put(field, answer), field, 1, MAX_TEXT).isPresent();
        };
    if (!ok) {
      throw ApiException.badRequest(
          field,
          switch (kind) {
            case "approve" -> field + " must be approve or deny";
            case "choose" -> field + " must be one of the options";
            default -> field + " must be 1 to " + MAX_TEXT + " characters";
          });
    }
  }
}
