package dev.umbra.crypto.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCertificatesTest {
  private static final Clock CLOCK = Clock.systemUTC();

  @Test
  void aLeafIsSignedByItsAuthorityAndNamesEveryHostAndAddress() throws Exception {
    LocalCertificates.Issued ca =
        LocalCertificates.authority("Umbra test CA", CLOCK, Duration.ofDays(1));
    LocalCertificates.Issued leaf =
        LocalCertificates.leaf(
            ca, List.of("localhost", "127.0.0.1", "::1"), CLOCK, Duration.ofDays(1));

    X509Certificate cert = leaf.certificate();
    cert.verify(ca.certificate().getPublicKey());
    cert.checkValidity();
    assertThat(ca.certificate().getBasicConstraints()).isZero();
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(cert.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"); // server and client auth
    assertThat(cert.getSubjectAlternativeNames())
        .extracting(n -> n.get(1).toString())
        .containsExactly("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1");
  }

  @Test
  void aLeafOfAnotherAuthorityDoesNotVerify() {
    LocalCertificates.Issued ca = LocalCertificates.authority("a", CLOCK, Duration.ofDays(1));
    LocalCertificates.Issued other = LocalCertificates.authority("b", CLOCK, Duration.ofDays(1));
    LocalCertificates.Issued leaf =
        LocalCertificates.leaf(other, List.of("localhost"), CLOCK, Duration.ofDays(1));
    assertThatThrownBy(() -> leaf.certificate().verify(ca.certificate().getPublicKey()))
        .isInstanceOf(SignatureException.class);
  }

  @Test
  void writtenFilesArePrivateAndReadBackAsTheSameCertificateAndPin(@TempDir Path tmp)
      throws Exception {
    LocalCertificates.Issued ca = LocalCertificates.authority("a", CLOCK, Duration.ofDays(1));
    LocalCertificates.Issued leaf =
        LocalCertificates.leaf(ca, List.of("localhost"), CLOCK, Duration.ofDays(1));
    Path dir = tmp.resolve("tls");
    leaf.write(tmp, dir.resolve("cert.pem"), dir.resolve("key.pem"));

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("key.pem"))))
        .isEqualTo("rw-------");
    assertThat(Files.readString(dir.resolve("key.pem")))
        .startsWith("-----BEGIN PRIVATE KEY-----\n");
    List<X509Certificate> read = CertificatePins.read(dir.resolve("cert.pem"));
    assertThat(read).containsExactly(leaf.certificate());
    String pin = CertificatePins.spkiSha256(read.get(0));
    assertThat(CertificatePins.wellFormed(pin)).isTrue();
    assertThat(pin).isNotEqualTo(CertificatePins.spkiSha256(ca.certificate()));
    assertThat(CertificatePins.wellFormed("sha256/short")).isFalse();
    LocalCertificates.Issued back =
        LocalCertificates.read(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    assertThat(back.key().getEncoded()).isEqualTo(leaf.key().getEncoded());
    // a CA read back still issues leaves that verify against it
    ca.write(tmp, dir.resolve("ca.pem"), dir.resolve("ca-key.pem"));
    LocalCertificates.Issued caBack =
        LocalCertificates.read(dir.resolve("ca.pem"), dir.resolve("ca-key.pem"));
    LocalCertificates.leaf(caBack, List.of("x"), CLOCK, Duration.ofDays(1))
        .certificate()
        .verify(ca.certificate().getPublicKey());
  }

  @Test
  void twoLeavesHaveDifferentSerials() {
    LocalCertificates.Issued ca = LocalCertificates.authority("a", CLOCK, Duration.ofDays(1));
    assertThat(
            LocalCertificates.leaf(ca, List.of("x"), CLOCK, Duration.ofDays(1))
                .certificate()
                .getSerialNumber())
        .isNotEqualTo(
            LocalCertificates.leaf(ca, List.of("x"), CLOCK, Duration.ofDays(1))
                .certificate()
                .getSerialNumber());
  }
}
