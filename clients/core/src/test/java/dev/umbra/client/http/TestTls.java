package dev.umbra.client.http;

import dev.umbra.crypto.tls.LocalCertificates;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A private CA (its PEM in {@code caFile}, as `umbra dev --tls` keeps one) and a certificate for
 * 127.0.0.1 and localhost signed by it, for test servers the clients must verify.
 */
public record TestTls(LocalCertificates.Issued ca, LocalCertificates.Issued leaf, Path caFile) {

  /** A day-long CA and certificate; the CA's PEM written to {@code dir/ca.pem}. */
  public static TestTls in(Path dir) throws IOException {
    Clock clock = Clock.systemUTC();
    LocalCertificates.Issued ca = LocalCertificates.authority("test CA", clock, Duration.ofDays(1));
    LocalCertificates.Issued leaf =
        LocalCertificates.leaf(ca, List.of("localhost", "127.0.0.1"), clock, Duration.ofDays(1));
    Path caFile = dir.resolve("ca.pem");
    Files.writeString(caFile, ca.certificatePem());
    return new TestTls(ca, leaf, caFile);
  }

  /** A server speaking TLS 1.3 only, as the services do, with the certificate. */
  public HttpServerOptions serverOptions() {
    return new HttpServerOptions()
        .setSsl(true)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setKeyCertOptions(
            new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(leaf.certificatePem()))
                .setKeyValue(Buffer.buffer(leaf.keyPem())));
  }
}
