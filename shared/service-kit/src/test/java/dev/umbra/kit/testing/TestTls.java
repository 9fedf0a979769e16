package dev.umbra.kit.testing;

import dev.umbra.crypto.tls.LocalCertificates;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * TLS material for a service test, written under a directory: a CA of its own and a leaf for {@code
 * localhost} and {@code 127.0.0.1} signed by it, as PEM files. {@link #serviceEnv} is what a
 * service needs to serve TLS 1.3 and require client certificates from this CA ({@code
 * UMBRA_TLS_*}); the options give a test client the CA's trust and, for mutual TLS, a certificate.
 * Services that must not depend on shared/crypto use this from the kit's test-jar.
 */
public record TestTls(Path caFile, Path certFile, Path keyFile) {
  private static final Duration DAY = Duration.ofDays(1);

  /** A new CA and leaf under {@code dir}/{@code name}. */
  public static TestTls issue(Path dir, String name) {
    Clock clock = Clock.systemUTC();
    LocalCertificates.Issued ca = LocalCertificates.authority(name + " test CA", clock, DAY);
    LocalCertificates.Issued leaf =
        LocalCertificates.leaf(ca, List.of("localhost", "127.0.0.1"), clock, DAY);
    Path base = dir.resolve(name);
    TestTls t =
        new TestTls(base.resolve("ca.pem"), base.resolve("cert.pem"), base.resolve("key.pem"));
    try {
      leaf.write(dir, t.certFile, t.keyFile);
      ca.write(dir, t.caFile, base.resolve("ca-key.pem"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return t;
  }

  /**
   * A service serving TLS with this leaf, trusting this CA for its own calls and requiring client
   * certificates from it on internal endpoints.
   */
  public Map<String, String> serviceEnv() {
    return Map.of(
        "UMBRA_TLS_CERT_FILE", certFile.toString(),
        "UMBRA_TLS_KEY_FILE", keyFile.toString(),
        "UMBRA_TLS_CA_FILE", caFile.toString(),
        "UMBRA_TLS_CLIENT_CA_FILE", caFile.toString());
  }

  public PemTrustOptions trust() {
    return new PemTrustOptions().addCertPath(caFile.toString());
  }

  /** This leaf as a client certificate. */
  public PemKeyCertOptions clientCertificate() {
    return new PemKeyCertOptions().setCertPath(certFile.toString()).setKeyPath(keyFile.toString());
  }
}
