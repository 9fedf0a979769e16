package dev.umbra.crypto.sign;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The signed bytes are a wire format: daemons and control planes of one release must agree. */
class MachineRequestsTest {
  private static final UUID W = UUID.fromString("00000000-0000-4000-8000-000000000001");
  private static final UUID M = UUID.fromString("00000000-0000-4000-8000-000000000002");

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void eachRouteSignsItsTypeLineThenTheFieldsOnePerLine() {
    String wm = W + "\n" + M + "\n";
    assertThat(text(MachineRequests.session(W, M, "relay", 42)))
        .isEqualTo("umbra-machine-session/v1\n" + wm + "relay\n42");
    assertThat(text(MachineRequests.trust(W, M, 42)))
        .isEqualTo("umbra-machine-trust/v1\n" + wm + "42");
    assertThat(text(MachineRequests.vault(W, M, 42, "db/pw")))
        .isEqualTo("umbra-machine-vault/v1\n" + wm + "42\ndb/pw");
    assertThat(text(MachineRequests.ttyPolicy(W, M, 42)))
        .isEqualTo("umbra-machine-tty-policy/v1\n" + wm + "42");
    assertThat(
            text(
                MachineRequests.audit(
                    W,
                    M,
                    42,
                    new MachineRequests.AuditReport(
                        "e1", "command.run", "1f", "failure", "", 2, 30, 5, 6))))
        .isEqualTo(
            "umbra-machine-audit/v1\n" + wm + "42\ne1\ncommand.run\n1f\nfailure\n\n2\n30\n5\n6");
  }

  @Test
  void aSignatureForOneRouteIsNotTheBytesOfAnother() {
    assertThat(MachineRequests.trust(W, M, 42)).isNotEqualTo(MachineRequests.ttyPolicy(W, M, 42));
  }
}
