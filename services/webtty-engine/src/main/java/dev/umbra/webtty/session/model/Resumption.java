package dev.umbra.webtty.session.model;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import java.util.List;

/**
 * What a new home rebuilds a session from after a failover (docs/webtty.md "Engine failover"): the
 * stored recording header (opener, start, hello, proof, grants, key context) and the server's
 * RESUME (the signed resume document, the latest output-key epoch with its visible grants, the
 * controller's key id the document names, the output key id it names); {@code nextSequence} is the
 * GAP event's number.
 */
public record Resumption(
    String openedBy,
    long startedMs,
    TerminalSize size,
    SignedMessage serverHello,
    SignedMessage clientProof,
    List<KeyGrant> grants,
    ByteString keyContext,
    ByteString outputKeyId,
    SignedMessage outputKeyEpoch,
    List<KeyGrant> epochGrants,
    String controllerKeyHex,
    long nextSequence,
    SignedMessage resume) {

  public Resumption {
    grants = List.copyOf(grants);
    epochGrants = List.copyOf(epochGrants);
  }
}
