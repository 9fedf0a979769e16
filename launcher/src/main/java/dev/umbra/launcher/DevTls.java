package dev.umbra.launcher;

import dev.umbra.crypto.tls.LocalCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code umbra dev --tls}: a local CA kept in {@code UMBRA_HOME/dev/tls} (made once, ten years) and
 * a leaf certificate for localhost, 127.0.0.1, ::1 and the bind host, issued anew at every start
 * (90 days); all four files 0600 in 0700 directories. Every service serves it (TLS 1.3 only),
 * trusts the CA when calling another, and asks other services for a client certificate from it; the
 * CLI and the local daemon trust the CA through {@code UMBRA_TLS_CA_FILE}.
 */
final class DevTls {
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration LEAF_VALIDITY = Duration.ofDays(90);

  /** The files of the dev CA and the services' certificate. */
  record TlsFiles(Path caCert, Path caKey, Path cert, Path key) {
    /** The variables the services (and the CLI, for the CA) start with. */
    Map<String, String> serviceEnv() {
      return Map.of(
          "UMBRA_TLS_CERT_FILE", cert.toString(),
          "UMBRA_TLS_KEY_FILE", key.toString(),
          "UMBRA_TLS_CA_FILE", caCert.toString(),
          "UMBRA_TLS_CLIENT_CA_FILE", caCert.toString());
    }
  }

  private DevTls() {}

  static TlsFiles prepare(Path home, String bindHost, Clock clock) throws IOException {
    Path dir = home.resolve("dev").resolve("tls");
    TlsFiles f =
        new TlsFiles(
            dir.resolve("ca.pem"),
            dir.resolve("ca-key.pem"),
            dir.resolve("cert.pem"),
            dir.resolve("key.pem"));
    LocalCertificates.Issued ca;
    if (Files.exists(f.caCert()) && Files.exists(f.caKey())) {
      ca = LocalCertificates.read(f.caCert(), f.caKey());
    } else {
      ca = LocalCertificates.authority("Umbra dev CA", clock, CA_VALIDITY);
      ca.write(home, f.caCert(), f.caKey());
    }
    List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    if (!names.contains(bindHost) && !bindHost.equals("0.0.0.0") && !bindHost.equals("::")) {
      names.add(bindHost);
    }
    LocalCertificates.leaf(ca, names, clock, LEAF_VALIDITY).write(home, f.cert(), f.key());
    return f;
  }
}
