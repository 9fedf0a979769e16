package dev.umbra.client.tty;

import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.proto.webtty.SignedMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The recipients a {@link TtyClient} lists in its share requests (docs/webtty.md "Adding a
 * recipient to a live session"): the X25519 keys of the output recipients but the server that this
 * connection knows (the opener's connection: all of them; a joiner: those it added); the daemon
 * also remembers the keys it was shown. They change only when the daemon's OUTPUT_KEY naming the
 * requested keys arrives: a refused share leaves nothing in the next request.
 */
final class ShareRequests {
  private final List<X25519PublicKey> recipientKeys = new CopyOnWriteArrayList<>();

  /**
   * The recipient keys of the last share request sent, until an OUTPUT_KEY with exactly them
   * arrives.
   */
  private volatile List<X25519PublicKey> pending;

  /** The opener's recipients but the server, from its proof. */
  void opened(List<X25519PublicKey> recipients) {
    recipientKeys.addAll(recipients);
  }

  /**
   * Every known recipient key and then those of {@code added} not among them: what a request lists.
   */
  List<X25519PublicKey> withAdded(List<X25519PublicKey> added) {
    List<X25519PublicKey> all = new ArrayList<>(recipientKeys);
    for (X25519PublicKey k : added) {
      if (!all.contains(k)) {
        all.add(k);
      }
    }
    return all;
  }

  /** A request listing {@code keys} was sent. */
  void requested(List<X25519PublicKey> keys) {
    pending = keys;
  }

  /**
   * An output-key epoch under {@code context} arrived: if it has every key requested, they are
   * recipients now.
   */
  void epochArrived(KeyContext context) {
    List<X25519PublicKey> requested = pending;
    if (requested != null && requested.stream().allMatch(k -> context.hasRecipient(KeyId.of(k)))) {
      for (X25519PublicKey k : requested) {
        if (!recipientKeys.contains(k)) {
          recipientKeys.add(k);
        }
      }
      pending = null;
    }
  }

  /**
   * A signed share request adding {@code added} (all the recipient keys this connection knows, see
   * {@link #withAdded}), valid for {@link TtyClient#PROOF_WINDOW_MS}, {@code sharer} null for the
   * opener; the recipients change only when the daemon's OUTPUT_KEY with these keys arrives (a
   * refused share must not leave its keys in the next request).
   */
  SignedMessage sign(
      TtyClient.Options options,
      String serverId,
      String sessionId,
      List<X25519PublicKey> added,
      List<Handshake.RecipientDevice> devices,
      Handshake.RecipientDevice sharer) {
    long now = options.clock().millis();
    Handshake.ShareRequest r =
        new Handshake.ShareRequest(
            options.workspaceId().toString(),
            serverId,
            sessionId,
            withAdded(added),
            devices,
            now,
            now + TtyClient.PROOF_WINDOW_MS,
            sharer);
    requested(r.recipientKeys());
    return Handshake.sign(r, options.signingKey());
  }
}
