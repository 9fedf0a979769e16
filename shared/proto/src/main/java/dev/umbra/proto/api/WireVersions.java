package dev.umbra.proto.api;

import java.util.Optional;

/**
 * Wire-version negotiation between every client and every service (docs/deploy.md, "Upgrades"), one
 * definition for both sides. The version of the wire (the HTTP API's JSON, the relay's and the
 * WebTTY engine's WebSocket frames) is one number for the whole platform; the paths keep their
 * {@code /v1} prefix, which only a wire version that cannot share them would change.
 *
 * <p>A client sends, on every request and WebSocket upgrade, the versions it speaks: {@code
 * Umbra-Wire: <oldest>-<newest>} (or one number). A service answers the newest version both speak
 * in the same header, or refuses the request with HTTP 426 {@code unsupported_wire_version}, its
 * own range in the header and a message naming both ranges and which side to upgrade. A request
 * without the header comes from a client older than the negotiation: it speaks version 1.
 */
public final class WireVersions {
  /** The header, in requests (the client's range) and answers (the chosen version, or a range). */
  public static final String HEADER = "Umbra-Wire";

  /** The error code of a refusal (HTTP 426). */
  public static final String REFUSED = "unsupported_wire_version";

  /** The error code of a header that is not a version range (HTTP 400). */
  public static final String MALFORMED = "malformed_wire_version";

  /** HTTP 426 Upgrade Required. */
  public static final int REFUSED_STATUS = 426;

  /** What a client without the header speaks: the wire before negotiation. */
  public static final Range BEFORE_NEGOTIATION = new Range(1, 1);

  /** What this build speaks, as a client and as a service. */
  public static final Range THIS_BUILD = new Range(1, 1);

  /** Longest header value accepted ({@code 65535-65535}); anything longer is malformed. */
  public static final int MAX_HEADER_CHARS = 11;

  private static final int MAX_VERSION = 65535;

  private WireVersions() {}

  /** The versions one side speaks, {@code oldest..newest} inclusive. */
  public record Range(int oldest, int newest) {
    public Range {
      if (oldest < 1 || newest < oldest || newest > MAX_VERSION) {
        throw new IllegalArgumentException("not a wire version range: " + oldest + "-" + newest);
      }
    }

    /** The header's form: {@code 1} or {@code 1-2}. */
    public String header() {
      return oldest == newest ? Integer.toString(oldest) : oldest + "-" + newest;
    }

    /** For people: {@code version 1} or {@code versions 1 to 2}. */
    public String describe() {
      return oldest == newest ? "version " + oldest : "versions " + oldest + " to " + newest;
    }

    public boolean contains(int version) {
      return version >= oldest && version <= newest;
    }
  }

  /** A header value that is not a version range. */
  public static final class MalformedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }
  }

  /**
   * The range of a header value: {@code n} or {@code a-b} in decimal, 1 to 65535, at most {@link
   * #MAX_HEADER_CHARS} characters; anything else is {@link MalformedException}.
   */
  public static Range parse(String value) {
    if (value == null || value.isEmpty() || value.length() > MAX_HEADER_CHARS) {
      throw new MalformedException(
          HEADER
              + " must be a version or a range such as 1-2 (at most "
              + MAX_HEADER_CHARS
              + " characters)");
    }
    int dash = value.indexOf('-');
    int oldest = number(dash < 0 ? value : value.substring(0, dash));
    int newest = dash < 0 ? oldest : number(value.substring(dash + 1));
    if (newest < oldest) {
      throw new MalformedException(HEADER + " must name its oldest version first");
    }
    return new Range(oldest, newest);
  }

  private static int number(String digits) {
    if (digits.isEmpty()
        || digits.length() > 5
        || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new MalformedException(HEADER + " must be decimal versions from 1 to " + MAX_VERSION);
    }
    int n = Integer.parseInt(digits);
    if (n < 1 || n > MAX_VERSION) {
      throw new MalformedException(HEADER + " must be decimal versions from 1 to " + MAX_VERSION);
    }
    return n;
  }

  /** The outcome of a negotiation: the version both speak, or why there is none. */
  public sealed interface Outcome permits Chosen, Refused {}

  /** Both speak {@code version}, the newest they share. */
  public record Chosen(int version) implements Outcome {}

  /** No version in common; {@code upgrade} names the side that is behind. */
  public record Refused(Range client, Range service, Side upgrade) implements Outcome {
    /** One line for people, the same on both sides. */
    public String message() {
      return "this service speaks wire "
          + service.describe()
          + ", the client "
          + client.describe()
          + ": upgrade the "
          + (upgrade == Side.SERVICE ? "service (or use an older client)" : "client (umbra)");
    }
  }

  public enum Side {
    CLIENT,
    SERVICE
  }

  /**
   * What a service speaking {@code service} answers a client that sent {@code header} (empty: a
   * client older than the negotiation). Throws {@link MalformedException} for a malformed header.
   */
  public static Outcome negotiate(Range service, Optional<String> header) {
    Range client = header.map(WireVersions::parse).orElse(BEFORE_NEGOTIATION);
    int newest = Math.min(client.newest(), service.newest());
    if (newest >= Math.max(client.oldest(), service.oldest())) {
      return new Chosen(newest);
    }
    return new Refused(
        client, service, client.newest() < service.oldest() ? Side.CLIENT : Side.SERVICE);
  }

  /**
   * What a client speaking {@code client} makes of a refusal whose answer named the service's range
   * in {@code serviceHeader} (or did not: then only the client's side is known).
   */
  public static String refusal(Range client, Optional<String> serviceHeader) {
    try {
      Range service = parse(serviceHeader.orElseThrow(() -> new MalformedException("none")));
      return new Refused(
              client, service, client.newest() < service.oldest() ? Side.CLIENT : Side.SERVICE)
          .message();
    } catch (MalformedException e) {
      return "the service refused this client's wire " + client.describe() + " (HTTP 426)";
    }
  }
}
