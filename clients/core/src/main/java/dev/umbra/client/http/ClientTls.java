package dev.umbra.client.http;

import dev.umbra.crypto.tls.CertificatePins;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.TrustOptions;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How the CLI and daemon verify a service's TLS certificate: the JDK's system trust, or the CAs in
 * {@code UMBRA_TLS_CA_FILE}; host names always checked; and, with {@code UMBRA_TLS_PIN}, the
 * server's public key must also be the pinned one ({@code sha256/<base64>} of its
 * SubjectPublicKeyInfo). The same trust serves the JDK client ({@link #sslContext}) and Vert.x
 * WebSocket clients ({@link #apply}).
 */
public final class ClientTls {
  public static final String CA_FILE = "UMBRA_TLS_CA_FILE";
  public static final String PIN = "UMBRA_TLS_PIN";

  private final Optional<Path> caFile;
  private final Optional<String> pin;
  private X509ExtendedTrustManager trust;
  private SSLContext context;

  private ClientTls(Optional<Path> caFile, Optional<String> pin) {
    this.caFile = caFile;
    this.pin = pin;
  }

  /** System trust, no pin. */
  public static ClientTls system() {
    return new ClientTls(Optional.empty(), Optional.empty());
  }

  /** Trust the CAs in {@code caFile} (PEM) instead of the system's; pin when {@code pin} is set. */
  public static ClientTls of(Optional<Path> caFile, Optional<String> pin) {
    pin.ifPresent(
        p -> {
          if (!CertificatePins.wellFormed(p)) {
            throw new IllegalArgumentException(
                PIN
                    + " must be sha256/ and the base64 of 32 bytes (a SubjectPublicKeyInfo digest)");
          }
        });
    return new ClientTls(caFile.map(Path::toAbsolutePath), pin);
  }

  /** From {@code UMBRA_TLS_CA_FILE} and {@code UMBRA_TLS_PIN} in {@code env}. */
  public static ClientTls fromEnvironment(Map<String, String> env) {
    return of(value(env, CA_FILE).map(Path::of), value(env, PIN));
  }

  private static Optional<String> value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  /** True when nothing beyond the system's defaults is configured. */
  public boolean isSystemDefault() {
    return caFile.isEmpty() && pin.isEmpty();
  }

  /** The trust manager: system or configured CAs, then the pin. Built once. */
  public synchronized X509ExtendedTrustManager trustManager() {
    if (trust == null) {
      try {
        TrustManagerFactory f =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(caFile.isEmpty() ? null : keyStore(caFile.get()));
        X509ExtendedTrustManager base = null;
        for (TrustManager m : f.getTrustManagers()) {
          if (m instanceof X509ExtendedTrustManager x) {
            base = x;
          }
        }
        if (base == null) {
          throw new IllegalStateException("no X.509 trust manager in this JDK");
        }
        trust = pin.isEmpty() ? base : new Pinned(base, pin.get());
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalArgumentException(
            CA_FILE + ": cannot use " + caFile.orElse(null) + ": " + e.getMessage(), e);
      }
    }
    return trust;
  }

  private static KeyStore keyStore(Path file) throws GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    int i = 0;
    for (X509Certificate c : CertificatePins.read(file)) {
      ks.setCertificateEntry("ca-" + i++, c);
    }
    return ks;
  }

  /** An SSL context with this trust, for the JDK HTTP client. Built once. */
  public synchronized SSLContext sslContext() {
    if (context == null) {
      try {
        if (isSystemDefault()) {
          context = SSLContext.getDefault();
        } else {
          context = SSLContext.getInstance("TLS");
          context.init(null, new TrustManager[] {trustManager()}, null);
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("no TLS in this JDK: " + e.getMessage(), e);
      }
    }
    return context;
  }

  /** {@code options} verifying the server with this trust (host names checked). */
  public WebSocketClientOptions apply(WebSocketClientOptions options) {
    options.setVerifyHost(true);
    if (!isSystemDefault()) {
      options.setTrustOptions(TrustOptions.wrap(trustManager()));
    }
    return options;
  }

  /**
   * One line for a refused TLS connection: an untrusted certificate, a pin mismatch or a name
   * mismatch, rather than the JDK's "PKIX path building failed".
   */
  public static String explain(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (m.contains(PIN)) {
        return m;
      }
      if (m.contains("PKIX path") || m.contains("unable to find valid certification path")) {
        return "the server's certificate is not signed by a trusted CA (system trust, or the CA in "
            + CA_FILE
            + "): set "
            + CA_FILE
            + " to the CA that issued it (for `umbra dev --tls`: export "
            + CA_FILE
            + "=$UMBRA_HOME/dev/tls/ca.pem, the line it printed at start)";
      }
      if (m.contains("No subject alternative") || m.contains("No name matching")) {
        return "the server's certificate is not for this host name: " + m;
      }
      if (m.contains("protocol_version") || m.contains("No appropriate protocol")) {
        return "no TLS version in common (the services accept TLS 1.3 only)";
      }
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** True when {@code e} (or a cause) is a TLS failure. */
  public static boolean isTls(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof CertificateException) {
        return true;
      }
    }
    return false;
  }

  /** Checks the pin after the chain and host name passed the base trust manager. */
  private static final class Pinned extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager base;
    private final String pin;

    Pinned(X509ExtendedTrustManager base, String pin) {
      this.base = base;
      this.pin = pin;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      String presented = CertificatePins.spkiSha256(chain[0]);
      if (!presented.equals(pin)) {
        throw new CertificateException(
            "the server's key "
                + presented
                + " is not the one pinned in "
                + PIN
                + " ("
                + pin
                + ")");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      base.checkServerTrusted(chain, authType, socket);
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      base.checkServerTrusted(chain, authType, engine);
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      base.checkServerTrusted(chain, authType);
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      base.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      base.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      base.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return base.getAcceptedIssuers();
    }
  }
}
