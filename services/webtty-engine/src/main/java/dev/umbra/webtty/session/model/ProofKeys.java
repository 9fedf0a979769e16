package dev.umbra.webtty.session.model;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.KeyGrant;
import java.util.List;

/**
 * The two payload keys a CLIENT_PROOF's grants name (v2 split keys, docs/webtty.md): one output key
 * for every recipient and one input key, each role's grants naming one key, the two different.
 */
record ProofKeys(ByteString output, ByteString input) {

  /** The keys {@code grants} name; null when they are not exactly that. */
  static ProofKeys of(List<KeyGrant> grants) {
    ByteString outputKey = null;
    ByteString inputKey = null;
    for (KeyGrant g : grants) {
      boolean output = SessionModel.isOutput(g);
      ByteString known = output ? outputKey : inputKey;
      if (known != null && !known.equals(g.getPayloadKeyId())) {
        return null;
      }
      if (output) {
        outputKey = g.getPayloadKeyId();
      } else {
        inputKey = g.getPayloadKeyId();
      }
    }
    if (outputKey == null || inputKey == null || outputKey.equals(inputKey)) {
      return null;
    }
    return new ProofKeys(outputKey, inputKey);
  }
}
