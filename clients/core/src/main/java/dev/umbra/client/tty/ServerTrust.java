package dev.umbra.client.tty;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The client's step "is this the server I expect": a WebTTY server's keys (from its signed
 * ServerHello) must equal the ones pinned for it; a change is refused before anything is sent
 * (DESIGN.md §6). {@link #pinned(Path)} pins on first use under {@code <dir>/<workspace>/<server>}
 * ("ed25519hex x25519hex").
 */
@FunctionalInterface
public interface ServerTrust {
  /** Throws {@link AuthenticationFailedException} when the keys are not the trusted ones. */
  void check(
      UUID workspaceId, String serverId, Ed25519PublicKey signingKey, X25519PublicKey agreementKey);

  static ServerTrust pinned(Path dir) {
    return (ws, server, sig, kx) -> {
      if (!server.matches("[A-Za-z0-9._:-]{1,128}")) {
        throw new AuthenticationFailedException("not a server id");
      }
      Path file = PinFiles.file(dir, ws, server);
      String seen = sig.toHex() + " " + kx.toHex();
      try {
        PinFiles.pinOnFirstUse(
            dir,
            file,
            seen,
            pinned ->
                new AuthenticationFailedException(
                    "the keys of WebTTY server "
                        + server
                        + " changed since they were pinned; refusing to send anything (pin: "
                        + file
                        + ")"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }
}
