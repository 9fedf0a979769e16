package dev.umbra.crypto.tls;

import dev.umbra.crypto.CryptoException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Certificate files and public-key pins: a pin is {@code sha256/} and the base64 of the SHA-256 of
 * a certificate's SubjectPublicKeyInfo (the form HPKP and curl's {@code --pinnedpubkey} use), so it
 * survives a renewal that keeps the key.
 */
public final class CertificatePins {
  public static final String PREFIX = "sha256/";

  private CertificatePins() {}

  /** The pin of a certificate's public key. */
  public static String spkiSha256(X509Certificate certificate) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded());
      return PREFIX + Base64.getEncoder().encodeToString(d);
    } catch (GeneralSecurityException e) {
      throw new CryptoException("no SHA-256", e);
    }
  }

  /** True when {@code pin} has the form {@code sha256/<base64 of 32 bytes>}. */
  public static boolean wellFormed(String pin) {
    if (pin == null || !pin.startsWith(PREFIX)) {
      return false;
    }
    try {
      return Base64.getDecoder().decode(pin.substring(PREFIX.length())).length == 32;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Every certificate in a PEM (or DER) file, in order; none is an error. */
  public static List<X509Certificate> read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IOException(file + " holds no certificate");
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " is not a certificate file: " + e.getMessage(), e);
    }
  }
}
