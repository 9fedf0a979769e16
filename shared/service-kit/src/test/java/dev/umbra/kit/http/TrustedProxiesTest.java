package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which X-Forwarded-For a service believes, and how it reads it (UMBRA_TRUSTED_PROXIES). */
class TrustedProxiesTest {
  private static final TrustedProxies BALANCERS = TrustedProxies.parse("10.0.0.0/8, fd00::/8");

  @Test
  void ignoresTheHeaderWhenNoProxyIsTrusted() {
    assertThat(TrustedProxies.none().clientAddress("10.0.0.5", List.of("203.0.113.7")))
        .isEqualTo("10.0.0.5");
    assertThat(TrustedProxies.parse("").isEmpty()).isTrue();
  }

  @Test
  void ignoresTheHeaderFromAPeerThatIsNotTrusted() {
    assertThat(BALANCERS.clientAddress("198.51.100.4", List.of("203.0.113.7")))
        .isEqualTo("198.51.100.4");
  }

  @Test
  void takesTheRightmostAddressThatNoTrustedProxyOwns() {
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.7")))
        .isEqualTo("203.0.113.7");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.7, 10.1.2.3")))
        .isEqualTo("203.0.113.7");
  }

  @Test
  void aClientCannotSpoofItsAddressByPrependingEntries() {
    // the client sent "X-Forwarded-For: 1.1.1.1"; the balancer appended what it saw
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("1.1.1.1, 198.51.100.2")))
        .isEqualTo("198.51.100.2");
  }

  @Test
  void readsSeveralHeaderLinesAsOneList() {
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("1.1.1.1", "198.51.100.2, 10.9.9.9")))
        .isEqualTo("198.51.100.2");
  }

  @Test
  void aChainOfTrustedHopsEndsAtTheLeftmost() {
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("10.0.0.7, 10.0.0.6")))
        .isEqualTo("10.0.0.7");
  }

  @Test
  void malformedOrTruncatedEntriesStopTheWalkAtTheLastVouchedAddress() {
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.7, garbage")))
        .isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113."))).isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.256"))).isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of(""))).isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.7:443")))
        .isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("garbage, 10.0.0.9")))
        .isEqualTo("10.0.0.9");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("203.0.113.7,,10.0.0.9")))
        .isEqualTo("10.0.0.9");
  }

  @Test
  void namesAreNeverResolved() {
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("localhost"))).isEqualTo("10.0.0.5");
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of("example.com"))).isEqualTo("10.0.0.5");
    assertThat(TrustedProxies.literal("cafe")).isEmpty();
  }

  @Test
  void anOversizedHeaderIsNotReadAtAll() {
    String longLine = "203.0.113.7, ".repeat(200) + "198.51.100.2";
    assertThat(longLine.length()).isGreaterThan(TrustedProxies.MAX_HEADER_CHARS);
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of(longLine))).isEqualTo("10.0.0.5");
  }

  @Test
  void aChainLongerThanTheHopLimitIsCutWithoutTrustingTheCutPart() {
    List<String> hops = new ArrayList<>();
    hops.add("198.51.100.2");
    for (int i = 0; i < 40; i++) {
      hops.add("10.0.0." + (i + 1));
    }
    String header = String.join(",", hops);
    // 32 hops read from the right, all trusted: the walk ends at the 32nd, never at the client it
    // could not reach
    assertThat(BALANCERS.clientAddress("10.0.0.5", List.of(header))).isEqualTo("10.0.0.9");
  }

  @Test
  void matchesIpv6RangesAndAddresses() {
    assertThat(BALANCERS.clientAddress("fd12::1", List.of("2001:db8::1")))
        .isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(BALANCERS.clientAddress("fe80::1", List.of("2001:db8::1"))).isEqualTo("fe80::1");
    assertThat(BALANCERS.clientAddress("fd12::1", List.of("::ffff:203.0.113.7")))
        .isEqualTo("203.0.113.7");
  }

  @Test
  void prefixesNeedNotBeByteAligned() throws Exception {
    TrustedProxies p = TrustedProxies.parse("172.16.0.0/12");
    assertThat(p.trusts(InetAddress.getByName("172.31.255.255"))).isTrue();
    assertThat(p.trusts(InetAddress.getByName("172.32.0.0"))).isFalse();
    assertThat(p.trusts(InetAddress.getByName("172.15.255.255"))).isFalse();
    assertThat(TrustedProxies.parse("0.0.0.0/0").trusts(InetAddress.getByName("8.8.8.8"))).isTrue();
    assertThat(TrustedProxies.parse("127.0.0.1").trusts(InetAddress.getByName("127.0.0.2")))
        .isFalse();
  }

  @Test
  void rejectsBadEntriesNamingTheVariable() {
    for (String bad :
        List.of(
            "10.0.0.0/33", "10.0.0.256", "proxy.internal", "10.0.0.0/", "10.0.0.0/x", "::1/129")) {
      assertThatThrownBy(() -> TrustedProxies.parse(bad))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("UMBRA_TRUSTED_PROXIES")
          .hasMessageContaining(bad);
    }
  }

  @Test
  void serviceConfigReadsTheVariable() {
    ServiceConfig none = ServiceConfig.load(ServiceName.RELAY, new Env(Map.of()));
    assertThat(none.trustedProxies().isEmpty()).isTrue();
    ServiceConfig some =
        ServiceConfig.load(
            ServiceName.RELAY, new Env(Map.of("UMBRA_TRUSTED_PROXIES", "10.0.0.0/8,::1")));
    assertThat(some.trustedProxies().ranges()).hasSize(2);
  }
}
