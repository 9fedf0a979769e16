package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.proto.channel.ChannelReasons;
import org.junit.jupiter.api.Test;

/**
 * Every refusal a device check can give becomes a channel's close reason (the daemon closes with
 * {@link ClientAuth#refusal} or {@link ClientAuth#recheck}): each must be a {@code ChannelReason},
 * or a peer would read an unknown code (docs/relay.md, "Channel reasons").
 */
class AdmissionReasonsTest {
  @Test
  void everyDeviceRefusalIsAChannelReason() {
    for (DeviceTrust.Refusal r : DeviceTrust.Refusal.values()) {
      assertThat(ChannelReasons.parse(r.code())).as(r.code()).isPresent();
    }
  }
}
