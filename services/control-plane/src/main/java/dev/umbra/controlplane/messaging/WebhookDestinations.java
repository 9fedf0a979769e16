package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Where a notification webhook may point (docs/messaging.md, "Notifications"): not at the control
 * plane's own network. Loopback, private (RFC 1918, unique local fc00::/7), link-local (cloud
 * metadata 169.254.169.254, fe80::/10), shared CGNAT (100.64.0.0/10, tailnets), unspecified,
 * multicast, benchmarking and reserved addresses are refused — IPv4 embedded in IPv6 (compatible,
 * mapped, SIIT-translated, NAT64, 6to4, Teredo) by the IPv4 it carries, local-use NAT64
 * (64:ff9b:1::/48) and discard-only (100::/64) whole — unless {@code allowPrivate} (development,
 * set by {@code UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true}). Checked when the URL is set and again
 * for the addresses a delivery connects to, so a name that later resolves inward (DNS rebinding) is
 * refused too: the delivery connects to the address that was checked.
 */
final class WebhookDestinations {
  /** A destination this deployment does not send to. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private final Vertx vertx;
  private final boolean allowPrivate;

  WebhookDestinations(Vertx vertx, boolean allowPrivate) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
  }

  /**
   * The address to connect to for {@code host}: its first address once every address it has passed
   * the check. Fails with {@link Refused}, or {@link UnknownHostException} when it does not
   * resolve.
   */
  Future<InetAddress> resolve(String host) {
    return vertx.executeBlocking(
        () -> {
          InetAddress[] all = InetAddress.getAllByName(bare(host));
          if (!allowPrivate && Arrays.stream(all).anyMatch(WebhookDestinations::isInternal)) {
            throw new Refused(
                "the webhook's host is a loopback, private or link-local address (refused so that"
                    + " a webhook cannot reach the deployment's own network; a development"
                    + " deployment admits it with UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)");
          }
          return all[0];
        },
        false);
  }

  /**
   * {@code host} as {@link java.net.URI#getHost()} gives it, without an IPv6 literal's brackets.
   */
  static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** True for every address a webhook must not reach (see the class comment). */
  static boolean isInternal(InetAddress a) {
    if (a.isLoopbackAddress()
        || a.isAnyLocalAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return internalV4(b);
    }
    if (a instanceof Inet6Address) {
      byte[] embedded = embeddedV4(b);
      if (embedded != null) {
        try {
          return isInternal(InetAddress.getByAddress(embedded));
        } catch (UnknownHostException e) {
          return true; // four bytes are always an address: unreachable
        }
      }
      return (b[0] & 0xfe) == 0xfc // fc00::/7 unique local
          || (b[0] == 0
              && b[1] == 0x64
              && (b[2] & 0xff) == 0xff
              && (b[3] & 0xff) == 0x9b
              && b[4] == 0
              && b[5] == 1) // 64:ff9b:1::/48 local-use NAT64: the network's own
          || (b[0] == 1 && zeros(b, 1, 8)); // 100::/64 discard-only
    }
    return true;
  }

  private static boolean internalV4(byte[] b) {
    int o0 = b[0] & 0xff;
    int o1 = b[1] & 0xff;
    return o0 == 0 // this network
        || (o0 == 100 && (o1 & 0xc0) == 64) // 100.64.0.0/10 shared (CGNAT)
        || (o0 == 192 && o1 == 0 && (b[2] & 0xff) == 0) // 192.0.0.0/24 protocol assignments
        || (o0 == 198 && (o1 & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o0 >= 240; // reserved and broadcast
  }

  /**
   * The IPv4 address an IPv6 one carries (compatible ::a.b.c.d, mapped, SIIT-translated
   * ::ffff:0:a.b.c.d, NAT64, 6to4, Teredo's client), else null.
   */
  private static byte[] embeddedV4(byte[] b) {
    boolean compatible = zeros(b, 0, 12);
    boolean mapped = zeros(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean translated =
        zeros(b, 0, 8) && (b[8] & 0xff) == 0xff && (b[9] & 0xff) == 0xff && zeros(b, 10, 12);
    boolean nat64 = b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
    if (compatible || mapped || translated || (nat64 && zeros(b, 4, 12))) { // 64:ff9b::/96
      return Arrays.copyOfRange(b, 12, 16);
    }
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) { // 2001::/32 Teredo
      byte[] client = Arrays.copyOfRange(b, 12, 16);
      for (int i = 0; i < 4; i++) {
        client[i] = (byte) ~client[i]; // stored inverted
      }
      return client;
    }
    if (b[0] == 0x20 && b[1] == 0x02) { // 2002::/16 6to4
      return Arrays.copyOfRange(b, 2, 6);
    }
    return null;
  }

  private static boolean zeros(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
