package dev.umbra.controlplane.devices;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/** A stored signed document: its canonical JSON text and the signature over it. */
record SignedDoc(String payload, byte[] signature) {
  /**
   * The document in columns {@code <prefix>_payload}, {@code <prefix>_signature}; null when not
   * set.
   */
  static SignedDoc of(Row r, String payloadColumn, String signatureColumn) {
    String p = r.getString(payloadColumn);
    return p == null ? null : new SignedDoc(p, r.getBuffer(signatureColumn).getBytes());
  }

  static SignedDoc of(SignedPayload p) {
    return new SignedDoc(p.payload(), p.signature());
  }

  /** {@code {"payload","signature"}} as served. */
  JsonObject json() {
    return SignedPayload.json(payload, signature);
  }
}
