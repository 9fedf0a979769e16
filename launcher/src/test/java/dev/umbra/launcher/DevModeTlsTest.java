package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.crypto.tls.CertificatePins;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.tls.TlsContexts;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end over TLS: `umbra dev --tls` in a child JVM makes its CA, serves every service over TLS
 * 1.3, the CLI logs in and pairs the machine over https (pairing calls the control plane with
 * mutual TLS), `umbra run` reaches the daemon through the relay over wss, and only the control
 * plane asks clients for a certificate (docs/deploy.md: browsers' WebSockets elsewhere).
 */
class DevModeTlsTest {
  @TempDir Path tmp;

  @Test
  void theCliPairsAndRunsACommandOverTheTlsPlatform() throws Exception {
    Path home = tmp.resolve("home");
    Map<String, Integer> ports = ChildJvm.freeServicePorts();
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      Map<String, String> env = ChildJvm.devEnv(home, pg.url(), ports);
      try (ChildJvm dev = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev", "--tls")) {
        String ready = dev.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 120);
        assertThat(ready).contains("https://127.0.0.1:" + ports.get("CONTROL_PLANE"));
        assertThat(dev.output()).contains("CLI logged in to workspace 'dev' as a trusted device");
        dev.awaitLine(l -> l.contains("reachable through the relay at https://"), 60);

        Path ca = home.resolve("dev/tls/ca.pem");
        for (String key : List.of("ca-key.pem", "key.pem")) {
          assertThat(Files.getPosixFilePermissions(home.resolve("dev/tls").resolve(key)))
              .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
        assertThat(Files.getPosixFilePermissions(home.resolve("dev/tls")))
            .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        HttpClient https =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(trusting(ca))
                .connectTimeout(Duration.ofSeconds(20))
                .build();
        for (Map.Entry<String, Integer> e : ports.entrySet()) {
          HttpResponse<String> r =
              https.send(
                  HttpRequest.newBuilder(
                          URI.create("https://127.0.0.1:" + e.getValue() + "/healthz"))
                      .timeout(Duration.ofSeconds(30))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as(e.getKey() + ": " + r.body()).isEqualTo(200);
        }
        // only the control plane (/internal/) asks for a client certificate: the engine and the
        // relay (its mesh off: one relay) ask browsers for none, so Chromium opens their WebSockets
        X509Certificate caCert = CertificatePins.read(ca).get(0);
        for (Map.Entry<String, Integer> e : ports.entrySet()) {
          assertThat(TlsContexts.certificateRequested(caCert, e.getValue()))
              .as(e.getKey() + " asks clients for a certificate")
              .isEqualTo(e.getKey().equals("CONTROL_PLANE"));
        }

        Map<String, String> cliEnv = new HashMap<>(System.getenv());
        cliEnv.put("UMBRA_TLS_CA_FILE", ca.toString());
        String[] run = {"run", "local", "--no-stdin", "--", "sh", "-c", "echo over-tls"};
        UmbraRun ran = UmbraRun.of(home, cliEnv, List.of(), run);
        assertThat(ran.code()).as(ran.err()).isZero();
        assertThat(ran.out()).contains("over-tls");

        // pinned to the services' key: still fine; pinned to another key: refused, saying why
        String servicePin =
            CertificatePins.spkiSha256(
                CertificatePins.read(home.resolve("dev/tls/cert.pem")).get(0));
        cliEnv.put("UMBRA_TLS_PIN", servicePin);
        String[] list = {"machines", "list", "--json"};
        assertThat(UmbraRun.of(home, cliEnv, List.of(), list).code()).isZero();
        cliEnv.put("UMBRA_TLS_PIN", CertificatePins.spkiSha256(CertificatePins.read(ca).get(0)));
        UmbraRun pinnedWrong = UmbraRun.of(home, cliEnv, List.of(), list);
        assertThat(pinnedWrong.code()).isNotZero();
        assertThat(pinnedWrong.err()).contains("UMBRA_TLS_PIN").contains(servicePin);

        // without the dev CA the CLI refuses the services' certificate
        Map<String, String> noCa = new HashMap<>(System.getenv());
        noCa.remove("UMBRA_TLS_CA_FILE");
        UmbraRun untrusted = UmbraRun.of(home, noCa, List.of(), list);
        assertThat(untrusted.code()).isNotZero();
        assertThat(untrusted.err()).contains("not signed by a trusted CA");
        assertThat(dev.terminate(15)).as(dev.output()).isZero();
      }
    }
  }

  @Test
  void aHomeThatRanWithoutTlsComesUpWithTlsKeepingItsLoginAndMachine() throws Exception {
    Path home = tmp.resolve("home");
    Map<String, Integer> ports = ChildJvm.freeServicePorts();
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      Map<String, String> env = ChildJvm.devEnv(home, pg.url(), ports);
      try (ChildJvm plain = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev")) {
        plain.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 120);
        Map<String, String> plainEnv = new HashMap<>(System.getenv());
        UmbraRun enrolled =
            UmbraRun.of(home, plainEnv, List.of(), "agent", "enroll", "bot", "--json");
        assertThat(enrolled.code()).as(enrolled.err()).isZero();
        JsonObject agent = new JsonObject(enrolled.out());
        UmbraRun approved =
            UmbraRun.of(
                home,
                plainEnv,
                List.of(),
                "agents",
                "approve",
                agent.getString("agent_id"),
                "--code",
                agent.getString("verification_code"));
        assertThat(approved.code()).as(approved.err()).isZero();
        assertThat(plain.terminate(15)).as(plain.output()).isZero();
      }
      try (ChildJvm tls = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev", "--tls")) {
        String ready = tls.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 120);
        assertThat(ready).as(tls.output()).contains("https://");
        assertThat(tls.output()).doesNotContain("already bootstrapped");
        tls.awaitLine(l -> l.contains("reachable through the relay at https://"), 60);
        Map<String, String> cliEnv = new HashMap<>(System.getenv());
        cliEnv.put("UMBRA_TLS_CA_FILE", home.resolve("dev/tls/ca.pem").toString());
        UmbraRun machines = UmbraRun.of(home, cliEnv, List.of(), "machines", "list", "--json");
        assertThat(machines.code()).as(machines.err()).isZero();
        assertThat(machines.out())
            .as("the same machine, not paired again")
            .containsOnlyOnce("\"local\"");
        String[] run = {"run", "local", "--no-stdin", "--", "sh", "-c", "echo switched-to-tls"};
        UmbraRun ran = UmbraRun.of(home, cliEnv, List.of(), run);
        assertThat(ran.code()).as(ran.err()).isZero();
        assertThat(ran.out()).contains("switched-to-tls");
        UmbraRun recv = UmbraRun.of(home, cliEnv, List.of(), "agent", "recv");
        assertThat(recv.code()).as("the agent follows too: " + recv.err()).isZero();
        assertThat(tls.terminate(15)).as(tls.output()).isZero();
      }
    }
  }

  private static SSLContext trusting(Path caFile) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", CertificatePins.read(caFile).get(0));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
