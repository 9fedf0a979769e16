package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which recipients a client lists in its share requests: what it knows, and what the daemon
 * confirmed.
 */
class ShareRequestsTest {
  private final X25519PublicKey server = X25519KeyPair.generate().publicKey();
  private final X25519PublicKey me = X25519KeyPair.generate().publicKey();
  private final X25519PublicKey alice = X25519KeyPair.generate().publicKey();
  private final X25519PublicKey bob = X25519KeyPair.generate().publicKey();
  private final ShareRequests shares = new ShareRequests();

  private static KeyContext contextOf(X25519PublicKey... keys) {
    return new KeyContext(
        "ws", "server", "session", java.util.Arrays.stream(keys).map(KeyId::of).toList());
  }

  @Test
  void aRequestListsEveryKnownRecipientThenTheAddedOnesOnce() {
    shares.opened(List.of(me, alice));
    assertThat(shares.withAdded(List.of(alice, bob))).containsExactly(me, alice, bob);
  }

  @Test
  void requestedKeysBecomeRecipientsWhenAnOutputKeyEpochNamesThemAll() {
    shares.opened(List.of(me));
    shares.requested(List.of(me, alice));
    shares.epochArrived(contextOf(server, me, alice));
    assertThat(shares.withAdded(List.of())).containsExactly(me, alice);
  }

  @Test
  void aRefusedShareLeavesNothingInTheNextRequest() {
    shares.opened(List.of(me));
    shares.requested(List.of(me, alice));
    // someone else's share: an epoch without alice
    shares.epochArrived(contextOf(server, me, bob));
    assertThat(shares.withAdded(List.of(bob))).containsExactly(me, bob);
  }
}
