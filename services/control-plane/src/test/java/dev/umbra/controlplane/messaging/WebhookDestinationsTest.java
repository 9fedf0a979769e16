package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which addresses a notification webhook may reach: every wrong answer is listed at once. */
class WebhookDestinationsTest {
  static final List<String> INTERNAL =
      List.of(
          "127.0.0.1",
          "127.8.9.10",
          "0.0.0.0",
          "0.1.2.3",
          "10.0.0.1",
          "172.16.0.1",
          "172.31.255.255",
          "192.168.0.1",
          "169.254.169.254",
          "100.64.0.1",
          "100.127.255.254",
          "192.0.0.8",
          "198.18.0.1",
          "224.0.0.1",
          "240.0.0.1",
          "255.255.255.255",
          "::",
          "::1",
          "fe80::1",
          "fc00::1",
          "fd00:ec2::254",
          "ff02::1",
          "::ffff:127.0.0.1",
          "::ffff:10.0.0.1",
          "::127.0.0.1",
          "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
          "2002:7f00:1::1", // 6to4 of 127.0.0.1
          "64:ff9b:1::a9fe:a9fe", // local-use NAT64 (RFC 8215): a translator of this network
          "::ffff:0:7f00:1", // SIIT-translated 127.0.0.1 (RFC 2765)
          "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1 (inverted)
          "100::1", // discard-only
          "fec0::1");
  static final List<String> EXTERNAL =
      List.of(
          "8.8.8.8",
          "1.1.1.1",
          "93.184.215.14",
          "100.63.255.255",
          "100.128.0.1",
          "172.32.0.1",
          "192.0.1.1",
          "198.20.0.1",
          "2001:4860:4860::8888",
          "2606:4700:4700::1111",
          "::ffff:8.8.8.8",
          "64:ff9b::808:808",
          "2002:808:808::1",
          "2001:0:4136:e378:8000:63bf:f7f7:f7f7"); // Teredo, client 8.8.8.8

  @Test
  void internalAddressesAreRefusedAndOthersAdmitted() throws Exception {
    List<String> wrong = new ArrayList<>();
    for (String a : INTERNAL) {
      if (!WebhookDestinations.isInternal(InetAddress.getByName(a))) {
        wrong.add(a + " admitted");
      }
    }
    for (String a : EXTERNAL) {
      if (WebhookDestinations.isInternal(InetAddress.getByName(a))) {
        wrong.add(a + " refused");
      }
    }
    assertThat(wrong).isEmpty();
  }

  @Test
  void anIpv6LiteralIsLookedUpWithoutItsBrackets() {
    assertThat(WebhookDestinations.bare("[::1]")).isEqualTo("::1");
    assertThat(WebhookDestinations.bare("example.com")).isEqualTo("example.com");
  }
}
