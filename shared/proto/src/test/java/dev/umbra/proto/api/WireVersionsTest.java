package dev.umbra.proto.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.proto.api.WireVersions.Chosen;
import dev.umbra.proto.api.WireVersions.Range;
import dev.umbra.proto.api.WireVersions.Refused;
import dev.umbra.proto.api.WireVersions.Side;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Wire-version negotiation (docs/deploy.md, "Upgrades"): the newest version both sides speak, or a
 * refusal that names both ranges and the side to upgrade; never a silent guess.
 */
class WireVersionsTest {
  static final Range SERVICE_1_TO_2 = new Range(1, 2);

  @Test
  void aClientOlderThanTheNegotiationSpeaksVersionOneAndIsServedWithIt() {
    assertThat(WireVersions.negotiate(SERVICE_1_TO_2, Optional.empty())).isEqualTo(new Chosen(1));
    assertThat(WireVersions.negotiate(WireVersions.THIS_BUILD, Optional.empty()))
        .isEqualTo(new Chosen(1));
  }

  @Test
  void theNewestVersionBothSpeakIsChosen() {
    assertThat(WireVersions.negotiate(SERVICE_1_TO_2, Optional.of("1"))).isEqualTo(new Chosen(1));
    assertThat(WireVersions.negotiate(SERVICE_1_TO_2, Optional.of("1-3"))).isEqualTo(new Chosen(2));
    assertThat(WireVersions.negotiate(SERVICE_1_TO_2, Optional.of("2-5"))).isEqualTo(new Chosen(2));
  }

  @Test
  void aClientNewerThanTheServiceIsRefusedNamingBothAndTheServiceToUpgrade() {
    var outcome = WireVersions.negotiate(new Range(1, 1), Optional.of("2-3"));
    assertThat(outcome).isEqualTo(new Refused(new Range(2, 3), new Range(1, 1), Side.SERVICE));
    assertThat(((Refused) outcome).message())
        .isEqualTo(
            "this service speaks wire version 1, the client versions 2 to 3: upgrade the"
                + " service (or use an older client)");
  }

  @Test
  void aClientOlderThanTheServiceIsRefusedNamingBothAndTheClientToUpgrade() {
    var outcome = WireVersions.negotiate(new Range(2, 3), Optional.empty());
    assertThat(outcome).isEqualTo(new Refused(new Range(1, 1), new Range(2, 3), Side.CLIENT));
    assertThat(((Refused) outcome).message())
        .isEqualTo(
            "this service speaks wire versions 2 to 3, the client version 1: upgrade the client"
                + " (umbra)");
  }

  @Test
  void theClientWordsARefusalFromTheServicesHeaderAsTheServiceDoes() {
    assertThat(WireVersions.refusal(new Range(2, 3), Optional.of("1")))
        .isEqualTo(new Refused(new Range(2, 3), new Range(1, 1), Side.SERVICE).message());
    // an answer without a (readable) range still says what happened and what the client speaks
    assertThat(WireVersions.refusal(new Range(2, 3), Optional.empty()))
        .isEqualTo("the service refused this client's wire versions 2 to 3 (HTTP 426)");
    assertThat(WireVersions.refusal(new Range(2, 3), Optional.of("x")))
        .contains("refused this client's wire versions 2 to 3");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "0",
        "-",
        "1-",
        "-1",
        "2-1",
        "1-2-3",
        "a",
        "1.5",
        "+1",
        " 1",
        "1 ",
        "65536",
        "123456789012",
        "1-999999",
        "１"
      })
  void aMalformedOrOversizedHeaderIsRefusedNotGuessed(String header) {
    assertThatThrownBy(() -> WireVersions.negotiate(SERVICE_1_TO_2, Optional.of(header)))
        .isInstanceOf(WireVersions.MalformedException.class)
        .hasMessageContaining(WireVersions.HEADER);
  }

  @Test
  void aRangeIsWrittenAsItIsRead() {
    for (Range r : new Range[] {new Range(1, 1), new Range(1, 2), new Range(7, 65535)}) {
      assertThat(WireVersions.parse(r.header())).isEqualTo(r);
    }
    assertThat(WireVersions.THIS_BUILD.header()).isEqualTo("1");
  }
}
