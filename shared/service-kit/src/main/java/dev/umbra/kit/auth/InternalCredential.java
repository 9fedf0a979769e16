package dev.umbra.kit.auth;

import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.http.ServiceHttp;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The shared credential services present to each other's {@code /internal/} endpoints (e.g. the
 * pairing service creating a machine binding in the control plane). {@code UMBRA_INTERNAL_TOKEN}
 * (at least 32 characters) when set; otherwise the file {@code $UMBRA_HOME/internal-token} (0600),
 * created with 256 random bits by whichever service starts first. The file fallback only works
 * where services share UMBRA_HOME (one host, dev mode); production sets the variable.
 *
 * <p>With {@code UMBRA_TLS_CLIENT_CA_FILE} set ({@link dev.umbra.kit.tls.ServiceTls}) a call is
 * admitted only when it also came with a client certificate from that CA (mutual TLS).
 */
public final class InternalCredential {
  public static final String ENV = "UMBRA_INTERNAL_TOKEN";
  public static final String FILE = "internal-token";
  public static final String HEADER = "X-Umbra-Internal";
  private static final int MIN_CHARS = 32;

  private final String value;
  private final boolean clientCertificates;

  private InternalCredential(String value, boolean clientCertificates) {
    this.value = value;
    this.clientCertificates = clientCertificates;
  }

  /** Blocking (file I/O): call at start, off the event loop or before deploying. */
  public static InternalCredential load(ServiceConfig config) {
    var fromEnv = config.env().optional(ENV);
    boolean mtls = config.tls().requiresClientCertificates();
    if (fromEnv.isPresent()) {
      if (fromEnv.get().length() < MIN_CHARS) {
        throw new ConfigException(ENV, "must be at least " + MIN_CHARS + " characters");
      }
      return new InternalCredential(fromEnv.get(), mtls);
    }
    return new InternalCredential(fromFile(config.home().resolve(FILE)), mtls);
  }

  public static InternalCredential of(String value) {
    if (value == null || value.length() < MIN_CHARS) {
      throw new IllegalArgumentException(
          "an internal credential has at least " + MIN_CHARS + " characters");
    }
    return new InternalCredential(value, false);
  }

  private static String fromFile(Path file) {
    try {
      KeyFiles.ensurePrivateDirectory(file.getParent());
      if (!Files.exists(file)) {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        try {
          // created whole or not at all: a service never reads a half-written token
          PrivateFiles.createNew(file, token.getBytes(StandardCharsets.US_ASCII));
        } catch (FileAlreadyExistsException raced) {
          // another service created it first: use theirs
        }
      }
      String token = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (token.length() < MIN_CHARS) {
        throw new ConfigException(ENV, "not set and " + file + " holds no usable credential");
      }
      return token;
    } catch (IOException | dev.umbra.crypto.KeyFileException e) {
      throw new ConfigException(ENV, "not set and " + file + " cannot be used: " + e.getMessage());
    }
  }

  /** The value to send in {@link #HEADER}. */
  public String value() {
    return value;
  }

  /** Constant-time check of a presented value. */
  public boolean matches(String presented) {
    return presented != null && ServiceHttp.constantTimeEquals(presented, value);
  }

  /**
   * The request presents this credential and, when mutual TLS between services is configured, came
   * over a connection whose client presented a certificate (which the listener verified against
   * {@code UMBRA_TLS_CLIENT_CA_FILE} during the handshake).
   */
  public boolean admits(HttpServerRequest request) {
    return matches(request.getHeader(HEADER)) && connectionAdmits(request);
  }

  /**
   * Whether the request's connection passes the mutual-TLS requirement alone: always when mutual
   * TLS between services is not configured, else when the client presented a certificate (for
   * callers that prove knowledge of the credential some other way, e.g. the relay mesh's proofs).
   */
  public boolean connectionAdmits(HttpServerRequest request) {
    return !clientCertificates || presentedCertificate(request);
  }

  private static boolean presentedCertificate(HttpServerRequest request) {
    if (!request.isSSL()) {
      return false;
    }
    try {
      return !request.connection().peerCertificates().isEmpty();
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "InternalCredential[redacted]";
  }
}
