package dev.umbra.controlplane.devices;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.List;

/** Workspace Protection's answers rendered as JSON (the shapes of {@link TrustSchemas}). */
final class TrustJson {
  private TrustJson() {}

  static JsonObject json(KeysetChain chain) {
    return new JsonObject()
        .put("keysets", docs(chain.keysets()))
        .put("current_version", chain.currentVersion());
  }

  static JsonArray docs(List<SignedDoc> docs) {
    JsonArray a = new JsonArray();
    docs.forEach(d -> a.add(d.json()));
    return a;
  }

  static JsonObject json(RecoveryKit k) {
    return new JsonObject()
        .put("id", k.id().toString())
        .put("status", k.status())
        .put("kit", k.kit().json())
        .put("created_at", k.createdAt().toString())
        .put("confirmed_at", str(k.confirmedAt()));
  }

  static JsonObject json(SealedEnvelope e) {
    return new JsonObject()
        .put("keyset_version", e.keysetVersion())
        .put("envelope", new JsonObject(e.envelope()));
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }
}
