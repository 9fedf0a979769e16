package dev.umbra.kit.tls;

import dev.umbra.crypto.tls.LocalCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** JDK TLS contexts for tests: trust one CA, optionally present a client certificate. */
public final class TlsContexts {
  private TlsContexts() {}

  static SSLContext trusting(X509Certificate ca, LocalCertificates.Issued clientCert)
      throws GeneralSecurityException, IOException {
    KeyManagerFactory kmf = null;
    if (clientCert != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] pw = "test".toCharArray();
      keys.setKeyEntry("me", clientCert.key(), pw, new Certificate[] {clientCert.certificate()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, pw);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), trustManagers(ca), null);
    return ctx;
  }

  /**
   * The status line of a raw GET over {@code ctx}, or empty when the connection fails or closes
   * first (a TLS 1.3 server refuses a client certificate after the client's handshake finished).
   */
  static String rawStatus(SSLContext ctx, int port, String path, String headers) {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(30_000); // a cold JVM's first mutual-TLS handshake took 4-6 s here
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nhost: 127.0.0.1\r\n" + headers + "\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String all = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      return all;
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Whether the server on {@code port} (its certificate from {@code ca}) sent a certificate request
   * in its handshake: a client without certificates handshakes and makes one request, and notes
   * whether the JDK asked its key manager for a client certificate.
   */
  public static boolean certificateRequested(X509Certificate ca, int port)
      throws GeneralSecurityException, IOException {
    java.util.concurrent.atomic.AtomicBoolean asked =
        new java.util.concurrent.atomic.AtomicBoolean();
    String status = rawStatus(noCertificate(ca, asked), port, "/healthz", "");
    if (!status.equals("HTTP/1.1 200")) {
      throw new IOException("the server did not answer /healthz: '" + status + "'");
    }
    return asked.get();
  }

  /**
   * Whether the server on {@code port} (its certificate from {@code ca}) sends a certificate
   * request in its handshake, whatever it serves: a client without certificates completes one TLS
   * 1.3 handshake (the server's request comes before the client's Finished) and notes whether the
   * JDK asked its key manager for a client certificate.
   */
  public static boolean handshakeRequestsCertificate(X509Certificate ca, int port)
      throws GeneralSecurityException, IOException {
    java.util.concurrent.atomic.AtomicBoolean asked =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (SSLSocket s = (SSLSocket) noCertificate(ca, asked).getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(30_000); // a cold JVM's first mutual-TLS handshake took 4-6 s here
      s.startHandshake();
    }
    return asked.get();
  }

  /** A context trusting {@code ca} whose key manager has no certificate and notes being asked. */
  private static SSLContext noCertificate(
      X509Certificate ca, java.util.concurrent.atomic.AtomicBoolean asked)
      throws GeneralSecurityException, IOException {
    javax.net.ssl.X509ExtendedKeyManager none =
        new javax.net.ssl.X509ExtendedKeyManager() {
          @Override
          public String chooseClientAlias(
              String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            asked.set(true);
            return null;
          }

          @Override
          public String chooseEngineClientAlias(
              String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine e) {
            asked.set(true);
            return null;
          }

          @Override
          public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
            return null;
          }

          @Override
          public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
            return null;
          }

          @Override
          public String chooseServerAlias(
              String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return null;
          }

          @Override
          public X509Certificate[] getCertificateChain(String alias) {
            return null;
          }

          @Override
          public java.security.PrivateKey getPrivateKey(String alias) {
            return null;
          }
        };
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {none}, trustManagers(ca), null);
    return ctx;
  }

  private static javax.net.ssl.TrustManager[] trustManagers(X509Certificate ca)
      throws GeneralSecurityException, IOException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return tmf.getTrustManagers();
  }

  /** Handshakes with {@code port} offering only {@code protocol}; returns the server's leaf. */
  static X509Certificate handshake(SSLContext ctx, int port, String protocol) throws IOException {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(30_000); // a cold JVM's first mutual-TLS handshake took 4-6 s here
      s.setEnabledProtocols(new String[] {protocol});
      s.startHandshake();
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }
}
