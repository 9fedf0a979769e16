package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import java.util.Map;
import java.util.Set;

/**
 * The schema of a {@code umbra-webtty-policy/v1} document (docs/webtty.md, "Server policy"), in one
 * place for the control plane that stores it and the clients and daemons that verify it: its type,
 * its members, its bounds, and the first step of reading it — canonical JSON, an object of known
 * members only, of this type. What each side checks beyond that (the route's ids and clock on the
 * server, the pinned trust on the daemon) stays with it.
 */
public final class PolicyDocumentSchema {
  public static final String TYPE = CryptoConstants.WEBTTY_POLICY_TYPE;

  /** At most this many characters (reviewers carry their signed WebTTY key bindings). */
  public static final int MAX_DOCUMENT = 16 * 1024;

  /** At most this many reviewers. */
  public static final int MAX_REVIEWERS = 16;

  /** Every member a document may have. */
  public static final Set<String> FIELDS =
      Set.of(
          "type",
          "workspace_id",
          "machine_id",
          "version",
          "recording",
          "join",
          "record_stdin",
          "issued_at",
          "signer_device_id",
          "reviewers");

  /** Why a document's text is not a policy document at all. */
  public enum Problem {
    SIZE,
    MALFORMED,
    NOT_CANONICAL,
    NOT_AN_OBJECT,
    UNKNOWN_MEMBER,
    WRONG_TYPE
  }

  /** A document refused by {@link #members}; {@link #problem()} says why. */
  public static final class Invalid extends MalformedInputException {
    private final Problem problem;

    Invalid(Problem problem, String message) {
      super(message);
      this.problem = problem;
    }

    public Problem problem() {
      return problem;
    }
  }

  private PolicyDocumentSchema() {}

  /**
   * The members of {@code payload}: 1 to {@link #MAX_DOCUMENT} characters of canonical JSON, an
   * object of {@link #FIELDS} only, of type {@link #TYPE}.
   *
   * @throws Invalid otherwise
   */
  public static Map<?, ?> members(String payload) {
    if (payload == null || payload.isEmpty() || payload.length() > MAX_DOCUMENT) {
      throw new Invalid(
          Problem.SIZE,
          "a policy document must be canonical JSON of at most " + MAX_DOCUMENT + " characters");
    }
    Object parsed;
    try {
      if (!CanonicalJson.canonicalize(payload).equals(payload)) {
        throw new Invalid(Problem.NOT_CANONICAL, "a policy document must be canonical JSON");
      }
      parsed = CanonicalJson.parse(payload);
    } catch (Invalid e) {
      throw e;
    } catch (CryptoException e) {
      throw new Invalid(
          Problem.MALFORMED, "a policy document must be canonical JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> f)) {
      throw new Invalid(Problem.NOT_AN_OBJECT, "a policy document must be a JSON object");
    }
    for (Object k : f.keySet()) {
      if (!FIELDS.contains(k)) {
        throw new Invalid(Problem.UNKNOWN_MEMBER, "a policy document has an unknown member");
      }
    }
    if (!TYPE.equals(f.get("type"))) {
      throw new Invalid(Problem.WRONG_TYPE, "expected a " + TYPE + " document");
    }
    return f;
  }
}
