package dev.umbra.crypto.tls;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.secret.SecureRandoms;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * A small local certificate authority for development and tests ({@code umbra dev --tls}): an ECDSA
 * P-256 CA that issues leaf certificates usable both as TLS server and client certificates
 * (services present the same one when they call each other with mutual TLS). Not for production:
 * there the operator's PKI (or ACME at the proxy) issues certificates.
 */
public final class LocalCertificates {
  private LocalCertificates() {}

  /** A certificate and its private key. */
  public record Issued(X509Certificate certificate, PrivateKey key) {
    /** The certificate as PEM. */
    public String certificatePem() {
      return pem(certificate);
    }

    /** The private key as PEM (PKCS#8); write it only through {@link #write}. */
    public String keyPem() {
      return pem(key);
    }

    /**
     * Writes the certificate and key: both 0600 (through {@link PrivateFiles}, replacing what was
     * there atomically) in directories made 0700 under {@code base}.
     */
    public void write(Path base, Path certFile, Path keyFile) throws IOException {
      KeyFiles.ensurePrivateDirectories(base, certFile.toAbsolutePath().getParent());
      KeyFiles.ensurePrivateDirectories(base, keyFile.toAbsolutePath().getParent());
      PrivateFiles.replace(keyFile, keyPem());
      PrivateFiles.replace(certFile, certificatePem());
    }
  }

  /** A certificate and key as {@link Issued#write} wrote them (PEM; the key PKCS#8). */
  public static Issued read(Path certFile, Path keyFile) throws IOException {
    X509Certificate cert = CertificatePins.read(certFile).get(0);
    String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
    String b64 =
        pem.replace("-----BEGIN PRIVATE KEY-----", "")
            .replace("-----END PRIVATE KEY-----", "")
            .replaceAll("\\s", "");
    try {
      PrivateKey key =
          KeyFactory.getInstance(cert.getPublicKey().getAlgorithm())
              .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
      return new Issued(cert, key);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(keyFile + " is not a PKCS#8 PEM private key", e);
    }
  }

  /** A new self-signed CA, valid from now for {@code validity}. */
  public static Issued authority(String commonName, Clock clock, Duration validity) {
    KeyPair pair = newKeyPair();
    X500Name name = new X500Name("CN=" + commonName);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = builder(name, name, pair, clock, validity);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new Issued(sign(b, pair.getPrivate()), pair.getPrivate());
    } catch (GeneralSecurityException | IOException e) {
      throw new CryptoException("could not make the local CA", e);
    }
  }

  /**
   * A leaf certificate signed by {@code ca} for the given names (DNS names, or IP address literals
   * such as {@code 127.0.0.1}), with both the server and the client authentication purpose.
   */
  public static Issued leaf(Issued ca, List<String> names, Clock clock, Duration validity) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a leaf certificate needs at least one name");
    }
    KeyPair pair = newKeyPair();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X500Name issuer =
          X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder b =
          builder(issuer, new X500Name("CN=" + names.get(0)), pair, clock, validity);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, false, alternativeNames(names));
      b.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          ext.createAuthorityKeyIdentifier(ca.certificate()));
      return new Issued(sign(b, ca.key()), pair.getPrivate());
    } catch (GeneralSecurityException | IOException e) {
      throw new CryptoException("could not issue a certificate", e);
    }
  }

  private static GeneralNames alternativeNames(List<String> names) {
    List<GeneralName> out = new ArrayList<>();
    for (String n : names) {
      boolean ip = isAddress(n);
      out.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
    }
    return new GeneralNames(out.toArray(GeneralName[]::new));
  }

  private static X509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, KeyPair pair, Clock clock, Duration validity) {
    Instant now = clock.instant();
    // 159 random bits: positive, unique in practice (the reload test tells certificates apart)
    BigInteger serial =
        new BigInteger(1, SecureRandoms.bytes(20)).shiftRight(1).add(BigInteger.ONE);
    return new JcaX509v3CertificateBuilder(
        issuer,
        serial,
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(validity)),
        subject,
        pair.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      X509CertificateHolder holder =
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), SecureRandoms.random());
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new CryptoException("no P-256 key generator", e);
    }
  }

  static String pem(Object value) {
    try {
      String label;
      byte[] der;
      if (value instanceof PrivateKey k) {
        label = "PRIVATE KEY"; // PKCS#8
        der = k.getEncoded();
      } else {
        label = "CERTIFICATE";
        der = ((X509Certificate) value).getEncoded();
      }
      String body =
          Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
      return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
    } catch (GeneralSecurityException e) {
      throw new CryptoException("could not encode PEM", e);
    }
  }

  /** True when {@code literal} is an IP address literal (never a name lookup). */
  static boolean isAddress(String literal) {
    return IPAddress.isValid(literal);
  }
}
