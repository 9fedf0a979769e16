package dev.umbra.kit.http;

import dev.umbra.kit.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The reverse proxies and load balancers ({@code UMBRA_TRUSTED_PROXIES}, comma-separated addresses
 * or CIDR ranges) whose {@code X-Forwarded-For} a service believes. With none configured the header
 * is ignored and the client address is the direct peer's: a header anybody can send is never
 * trusted by default.
 *
 * <p>With a trusted peer, the client is found by walking {@code X-Forwarded-For} from the right
 * (the hop the trusted peer itself saw) past every address that is trusted too; the first one that
 * is not is the client. Whatever the walk cannot read — a malformed entry, a header over {@link
 * #MAX_HEADER_CHARS} characters or {@link #MAX_HOPS} entries — stops it at the last address a
 * trusted hop vouched for, never at an address taken from the unreadable part.
 */
public record TrustedProxies(List<Range> ranges) {
  public static final String ENV = "UMBRA_TRUSTED_PROXIES";
  public static final String HEADER = "X-Forwarded-For";

  /** Longest {@code X-Forwarded-For} (all its lines together) that is read at all. */
  public static final int MAX_HEADER_CHARS = 2048;

  /**
   * Most entries read from the right; a longer chain is cut there (the cut part is not trusted).
   */
  public static final int MAX_HOPS = 32;

  // literals only, so InetAddress never resolves a name: dotted quad, or hex groups with colons
  // (an IPv6 literal may end in a dotted quad)
  private static final Pattern IPV4 =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern IPV6 =
      Pattern.compile("[0-9A-Fa-f:]{2,39}|[0-9A-Fa-f:]{2,29}:\\d{1,3}(\\.\\d{1,3}){3}");

  public TrustedProxies {
    ranges = List.copyOf(ranges);
  }

  public static TrustedProxies none() {
    return new TrustedProxies(List.of());
  }

  /** Parses the variable's value; a bad entry is a configuration error naming it. */
  public static TrustedProxies parse(String spec) {
    List<Range> ranges = new ArrayList<>();
    if (spec == null || spec.isBlank()) {
      return none();
    }
    for (String raw : spec.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      ranges.add(
          Range.parse(entry)
              .orElseThrow(
                  () ->
                      new ConfigException(
                          ENV,
                          "'"
                              + entry
                              + "' is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8)")));
    }
    return new TrustedProxies(ranges);
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  public boolean trusts(InetAddress address) {
    for (Range r : ranges) {
      if (r.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The client's address for a request from {@code peer} carrying these {@code X-Forwarded-For}
   * lines (empty when absent). Returns {@code peer} unchanged unless it is trusted.
   */
  public String clientAddress(String peer, List<String> forwardedFor) {
    if (ranges.isEmpty() || forwardedFor.isEmpty()) {
      return peer;
    }
    Optional<InetAddress> peerAddress = literal(peer);
    if (peerAddress.isEmpty() || !trusts(peerAddress.get())) {
      return peer;
    }
    int chars = 0;
    for (String line : forwardedFor) {
      chars += line.length() + 1;
    }
    if (chars > MAX_HEADER_CHARS) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    for (String line : forwardedFor) {
      for (String part : line.split(",", -1)) {
        hops.add(part.trim());
      }
    }
    String client = peer;
    int seen = 0;
    for (int i = hops.size() - 1; i >= 0 && seen < MAX_HOPS; i--, seen++) {
      Optional<InetAddress> hop = literal(hops.get(i));
      if (hop.isEmpty()) {
        return client; // unreadable: stop at what the last trusted hop vouched for
      }
      client = hop.get().getHostAddress();
      if (!trusts(hop.get())) {
        return client;
      }
    }
    return client;
  }

  /** An IP literal, or empty for anything else (names are never resolved). */
  static Optional<InetAddress> literal(String s) {
    if (s == null) {
      return Optional.empty();
    }
    var v4 = IPV4.matcher(s);
    if (v4.matches()) {
      for (int g = 1; g <= 4; g++) {
        if (Integer.parseInt(v4.group(g)) > 255) {
          return Optional.empty();
        }
      }
    } else if (!(s.contains(":") && IPV6.matcher(s).matches())) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(s));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  /** One address range: a network address and prefix length. */
  public record Range(byte[] network, int prefix) {
    public Range {
      network = network.clone();
    }

    static Optional<Range> parse(String entry) {
      int slash = entry.indexOf('/');
      String addr = slash < 0 ? entry : entry.substring(0, slash);
      Optional<InetAddress> a = literal(addr);
      if (a.isEmpty()) {
        return Optional.empty();
      }
      byte[] bytes = a.get().getAddress();
      int max = bytes.length * 8;
      int prefix = max;
      if (slash >= 0) {
        String p = entry.substring(slash + 1);
        if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > max) {
          return Optional.empty();
        }
        prefix = Integer.parseInt(p);
      }
      return Optional.of(new Range(bytes, prefix));
    }

    public boolean contains(InetAddress address) {
      byte[] a = address.getAddress();
      if (a.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (a[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Range r
          && r.prefix == prefix
          && java.util.Arrays.equals(r.network, network);
    }

    @Override
    public int hashCode() {
      return 31 * java.util.Arrays.hashCode(network) + prefix;
    }

    @Override
    public String toString() {
      try {
        return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
      } catch (UnknownHostException e) {
        return "?/" + prefix;
      }
    }
  }
}
