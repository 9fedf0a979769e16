package dev.umbra.proto;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The wire strings of a proto reason enum: a value's name without the enum's prefix (e.g. {@code
 * RELAY_REASON_}), in lower case. The {@code *_UNSPECIFIED} value and protobuf's {@code
 * UNRECOGNIZED} are not reasons. Shared by {@code RelayReasons}, {@code WebTtyReasons} and {@code
 * ChannelReasons}.
 *
 * @param <E> the generated enum
 */
public final class ReasonNames<E extends Enum<E>> {
  private final String prefix;
  private final Map<String, E> byWire;

  private ReasonNames(String prefix, Map<String, E> byWire) {
    this.prefix = prefix;
    this.byWire = byWire;
  }

  /** The table of {@code type}, whose values all start with {@code prefix}. */
  public static <E extends Enum<E>> ReasonNames<E> of(Class<E> type, String prefix) {
    Map<String, E> m = new LinkedHashMap<>();
    for (E r : type.getEnumConstants()) {
      if (isReason(r, prefix)) {
        m.put(r.name().substring(prefix.length()).toLowerCase(Locale.ROOT), r);
      }
    }
    return new ReasonNames<>(prefix, Collections.unmodifiableMap(m));
  }

  private static boolean isReason(Enum<?> r, String prefix) {
    return r.name().startsWith(prefix) && !r.name().equals(prefix + "UNSPECIFIED");
  }

  /** The wire string of {@code reason}; a non-reason value is an error. */
  public String wire(E reason) {
    if (!isReason(reason, prefix)) {
      throw new IllegalArgumentException("not a reason: " + reason);
    }
    return reason.name().substring(prefix.length()).toLowerCase(Locale.ROOT);
  }

  /** The reason a wire string names; empty for a string not in the table. */
  public Optional<E> parse(String wire) {
    return Optional.ofNullable(byWire.get(wire));
  }

  /** Every wire string, in the enum's order. */
  public Map<String, E> all() {
    return byWire;
  }
}
