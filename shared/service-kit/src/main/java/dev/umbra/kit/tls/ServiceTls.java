package dev.umbra.kit.tls;

import dev.umbra.crypto.tls.KeyPairs;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.http.EdgeLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.X509KeyManager;

/**
 * A service's TLS settings: with {@code UMBRA_TLS_CERT_FILE} and {@code UMBRA_TLS_KEY_FILE} (PEM)
 * it serves TLS 1.3 only, and reloads both files when their content changes; with {@code
 * UMBRA_TLS_CLIENT_CA_FILE} the listener of a service with service-to-service endpoints asks every
 * client for a certificate issued by that CA, and those endpoints refuse a call without one (mutual
 * TLS between services; {@link #forListener}: the other services never ask); {@code
 * UMBRA_TLS_CA_FILE} is the CA it trusts when it calls another service (system trust without it).
 * Without any of them it speaks plain HTTP, for {@code umbra dev} and behind a TLS-terminating
 * proxy (docs/deploy.md).
 */
public record ServiceTls(
    Optional<Path> certFile,
    Optional<Path> keyFile,
    Optional<Path> clientCaFile,
    Optional<Path> caFile,
    Duration reloadEvery) {

  public static final String CERT_FILE = "UMBRA_TLS_CERT_FILE";
  public static final String KEY_FILE = "UMBRA_TLS_KEY_FILE";
  public static final String CLIENT_CA_FILE = "UMBRA_TLS_CLIENT_CA_FILE";
  public static final String CA_FILE = "UMBRA_TLS_CA_FILE";
  public static final String RELOAD_SECONDS = "UMBRA_TLS_RELOAD_SECONDS";

  /** The only protocol a TLS listener accepts. */
  public static final Set<String> PROTOCOLS = Set.of("TLSv1.3");

  /** Plain HTTP, nothing trusted beyond the system's. */
  public static ServiceTls none() {
    return new ServiceTls(
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Duration.ofSeconds(10));
  }

  public static ServiceTls load(Env env) {
    Optional<Path> cert = file(env, CERT_FILE);
    Optional<Path> key = file(env, KEY_FILE);
    if (cert.isPresent() != key.isPresent()) {
      throw new ConfigException(
          cert.isPresent() ? KEY_FILE : CERT_FILE,
          "set both " + CERT_FILE + " and " + KEY_FILE + ", or neither");
    }
    Optional<Path> clientCa = file(env, CLIENT_CA_FILE);
    if (clientCa.isPresent() && cert.isEmpty()) {
      throw new ConfigException(CLIENT_CA_FILE, "needs " + CERT_FILE + " and " + KEY_FILE);
    }
    int reload = env.positiveInt(RELOAD_SECONDS, 10);
    return new ServiceTls(cert, key, clientCa, file(env, CA_FILE), Duration.ofSeconds(reload));
  }

  private static Optional<Path> file(Env env, String name) {
    Optional<Path> p = env.optional(name).map(v -> Path.of(v).toAbsolutePath());
    if (p.isPresent() && !Files.isReadable(p.get())) {
      throw new ConfigException(name, "no readable file at " + p.get());
    }
    return p;
  }

  /** True when the service listens with TLS. */
  public boolean serving() {
    return certFile.isPresent();
  }

  /** True when clients must present a certificate from {@link #clientCaFile} on internal calls. */
  public boolean requiresClientCertificates() {
    return clientCaFile.isPresent();
  }

  /**
   * The settings of a listener: these when it serves service-to-service calls, else the same
   * without the client CA, so the listener never asks a client for a certificate (browsers,
   * docs/deploy.md). The service's own checks ({@code InternalCredential}) keep reading {@link
   * #requiresClientCertificates} of the service's settings, and so refuse internal calls on a
   * listener that does not ask.
   */
  public ServiceTls forListener(boolean servesServiceToServiceCalls) {
    return servesServiceToServiceCalls || clientCaFile.isEmpty()
        ? this
        : new ServiceTls(certFile, keyFile, Optional.empty(), caFile, reloadEvery);
  }

  /** The URL scheme of this service's own endpoints. */
  public String scheme() {
    return serving() ? "https" : "http";
  }

  /** The certificate, key and client CA as read at one moment. */
  public record Material(Buffer cert, Buffer key, Optional<Buffer> clientCa) {
    /** Equal content, read again, is not a change. */
    boolean sameAs(Material o) {
      return o != null && cert.equals(o.cert) && key.equals(o.key) && clientCa.equals(o.clientCa);
    }
  }

  /** Reads the certificate, key and client CA files without blocking the event loop. */
  public Future<Material> read(Vertx vertx) {
    Future<Buffer> cert = vertx.fileSystem().readFile(certFile.orElseThrow().toString());
    Future<Buffer> key = vertx.fileSystem().readFile(keyFile.orElseThrow().toString());
    Future<Optional<Buffer>> ca =
        clientCaFile.isEmpty()
            ? Future.succeededFuture(Optional.empty())
            : vertx.fileSystem().readFile(clientCaFile.get().toString()).map(Optional::of);
    return Future.all(cert, key, ca)
        .map(x -> new Material(cert.result(), key.result(), ca.result()))
        .compose(m -> vertx.executeBlocking(() -> paired(vertx, m), false));
  }

  /**
   * {@code m}, once its key is known to belong to its certificate; else it fails. The two files are
   * written one after the other (a renewal), and a key store takes any key beside any certificate:
   * served, such a pair fails every handshake.
   */
  private static Material paired(Vertx vertx, Material m) throws Exception {
    PemKeyCertOptions o = new PemKeyCertOptions().setCertValue(m.cert()).setKeyValue(m.key());
    List<String> aliases = Collections.list(o.loadKeyStore(vertx).aliases());
    X509KeyManager km = (X509KeyManager) o.getKeyManagerFactory(vertx).getKeyManagers()[0];
    for (String alias : aliases) {
      PrivateKey k = km.getPrivateKey(alias);
      X509Certificate[] chain = km.getCertificateChain(alias);
      if (k == null
          || chain == null
          || chain.length == 0
          || !KeyPairs.belongTogether(k, chain[0].getPublicKey())) {
        throw new IllegalStateException("the key file's key does not belong to the certificate");
      }
    }
    if (aliases.isEmpty()) {
      throw new IllegalStateException("no certificate and key in the files");
    }
    return m;
  }

  /** The server's SSL options for {@code m}: TLS 1.3 only, client certificates as configured. */
  public ServerSSLOptions sslOptions(Material m) {
    ServerSSLOptions o =
        new ServerSSLOptions()
            .setKeyCertOptions(new PemKeyCertOptions().setCertValue(m.cert()).setKeyValue(m.key()))
            .setEnabledSecureTransportProtocols(PROTOCOLS);
    m.clientCa()
        .ifPresent(
            ca ->
                o.setClientAuth(ClientAuth.REQUEST)
                    .setTrustOptions(new PemTrustOptions().addCertValue(ca)));
    return o;
  }

  /** {@code base} listening with TLS on {@code m} (the same settings as {@link #sslOptions}). */
  public HttpServerOptions serverOptions(HttpServerOptions base, Material m) {
    ServerSSLOptions ssl = sslOptions(m);
    HttpServerOptions o =
        new HttpServerOptions(base)
            .setSsl(true)
            .setKeyCertOptions(ssl.getKeyCertOptions())
            .setEnabledSecureTransportProtocols(PROTOCOLS);
    if (m.clientCa().isPresent()) {
      o.setClientAuth(ClientAuth.REQUEST).setTrustOptions(ssl.getTrustOptions());
    }
    return o;
  }

  /**
   * Options for this service's calls to another: the configured CA (system trust without one), host
   * names verified, and this service's own certificate as its client certificate when it has one
   * (so a peer that requires client certificates admits it).
   */
  public HttpClientOptions clientOptions() {
    HttpClientOptions o =
        new HttpClientOptions()
            .setVerifyHost(true)
            .setKeepAliveTimeout(EdgeLimits.CLIENT_KEEP_ALIVE_SECONDS);
    o.setEnabledSecureTransportProtocols(PROTOCOLS);
    caFile.ifPresent(ca -> o.setTrustOptions(new PemTrustOptions().addCertPath(ca.toString())));
    if (serving()) {
      o.setKeyCertOptions(
          new PemKeyCertOptions()
              .setCertPath(certFile.get().toString())
              .setKeyPath(keyFile.get().toString()));
    }
    return o;
  }
}
