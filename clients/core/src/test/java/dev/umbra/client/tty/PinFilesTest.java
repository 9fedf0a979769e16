package dev.umbra.client.tty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PinFilesTest {
  @TempDir Path home;

  @Test
  void pinsOnFirstUseAndAnswersThePinAfterwards() throws Exception {
    Path root = home.resolve("pins");
    UUID ws = UUID.randomUUID();
    Path file = PinFiles.file(root, ws, "m-1");
    PinFiles.pinOnFirstUse(root, file, "aa", IllegalStateException::new);
    PinFiles.pinOnFirstUse(root, file, "aa", IllegalStateException::new);
    var e =
        assertThrows(
            IllegalStateException.class,
            () -> PinFiles.pinOnFirstUse(root, file, "bb", IllegalStateException::new));
    assertEquals("aa", e.getMessage());
    assertEquals("aa\n", Files.readString(file));
    assertEquals(
        java.util.Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(file));
  }

  @Test
  void serverTrustRefusesChangedKeys() {
    ServerTrust trust = ServerTrust.pinned(home.resolve("tty"));
    UUID ws = UUID.randomUUID();
    var sig = Ed25519KeyPair.generate().publicKey();
    var kx = X25519KeyPair.generate().publicKey();
    trust.check(ws, "srv", sig, kx);
    trust.check(ws, "srv", sig, kx);
    var other = X25519KeyPair.generate().publicKey();
    assertThrows(AuthenticationFailedException.class, () -> trust.check(ws, "srv", sig, other));
    assertThrows(AuthenticationFailedException.class, () -> trust.check(ws, "../x", sig, kx));
    assertTrue(Files.exists(home.resolve("tty").resolve(ws.toString()).resolve("srv")));
  }
}
