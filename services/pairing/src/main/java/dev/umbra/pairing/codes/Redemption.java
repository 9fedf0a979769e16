package dev.umbra.pairing.codes;

import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * A daemon's redemption request, admitted from the body of {@code POST} {@link
 * dev.umbra.proto.api.PairingPaths#REDEEM}: the code, the install id, the new per-workspace public
 * keys (64 lower-case hex digits), a name, an OS and, when the code requires it, the workspace PSK
 * ({@code null} when absent).
 */
record Redemption(
    String code,
    UUID installId,
    String x25519,
    String ed25519,
    String name,
    String os,
    String psk) {

  /** The request's members of {@code body}; each failure is a 400 naming the member. */
  static Redemption parse(JsonObject body) {
    String code = Requests.string(body, "code", 1, 64);
    UUID installId = Requests.uuid(Requests.string(body, "install_id", 36, 36), "install_id");
    String x25519 = Requests.key32Hex(body, "x25519_public_key");
    String ed25519 = Requests.key32Hex(body, "ed25519_public_key");
    String name = Requests.string(body, "name", 1, 64);
    String os = Requests.optionalString(body, "os", 1, 64).orElse("unknown");
    String psk = Requests.optionalVerbatim(body, "psk", 1, CodeRoutes.PSK_MAX).orElse(null);
    return new Redemption(code, installId, x25519, ed25519, name, os, psk);
  }

  /** The machine the control plane is asked to create, {@code pairedBy} the code. */
  JsonObject machine(String pairedBy) {
    return new JsonObject()
        .put("install_id", installId.toString())
        .put("x25519_public_key", x25519)
        .put("ed25519_public_key", ed25519)
        .put("name", name)
        .put("os", os)
        .put("paired_by", pairedBy);
  }

  @Override
  public String toString() {
    return "Redemption[install_id=" + installId + ", name=" + name + ", os=" + os + "]";
  }
}
