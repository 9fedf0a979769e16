package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.KeyFileException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.crypto.messaging.InMemoryPrekeySecrets;
import dev.umbra.crypto.messaging.MessageRefusedException;
import dev.umbra.crypto.messaging.OneTimePrekey;
import dev.umbra.crypto.messaging.PrekeyBundle;
import dev.umbra.crypto.messaging.RatchetOptions;
import dev.umbra.crypto.messaging.RatchetSession;
import dev.umbra.crypto.messaging.SignedPrekey;
import dev.umbra.crypto.messaging.X3dh;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device-side messaging store: modes, sealing, and refusal of damaged files. */
class MessagingStoreTest {
  @TempDir Path tmp;
  final Clock clock = Clock.systemUTC();
  final RatchetOptions options = RatchetOptions.defaults(clock);
  final UUID peer = UUID.randomUUID();

  MessagingStore store() {
    return MessagingStore.open(tmp.resolve("home").resolve("messaging"));
  }

  /** A real session: Alice initiates to Bob's bundle. */
  X3dh.Initiated session() {
    IdentityKeyPair alice = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    IdentityKeyPair bob = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    SignedPrekey spk = SignedPrekey.generate(1, clock.instant(), Duration.ofDays(7));
    byte[] bundle = PrekeyBundle.create(bob, spk, null).encode();
    return X3dh.initiate(
        alice,
        PrekeyBundle.verify(bundle, bob.signing().publicKey(), clock),
        "first".getBytes(StandardCharsets.UTF_8),
        options);
  }

  @Test
  void everyDirectoryIs0700AndEveryFile0600() throws Exception {
    MessagingStore s = store();
    s.saveSession(peer, session().session(), false);
    s.savePrekeys(new InMemoryPrekeySecrets().addOneTimePrekey(OneTimePrekey.generate(1)));
    s.saveInbox(
        List.of(new JsonObject().put("id", UUID.randomUUID().toString()).put("text", "hi")));
    s.markShown(List.of(UUID.randomUUID()));
    s.savePin(peer, "00".repeat(32));
    s.savePrekeyMeta(new JsonObject().put("spk_id", 1));
    try (Stream<Path> all = Files.walk(s.dir())) {
      for (Path p : all.toList()) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        assertThat(mode)
            .as(p.toString())
            .isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
      }
    }
  }

  @Test
  void sessionsPrekeysAndTheInboxAreSealedAndRoundTrip() throws Exception {
    MessagingStore s = store();
    X3dh.Initiated i = session();
    s.saveSession(peer, i.session(), true);
    String secret = "inbox-secret-" + UUID.randomUUID();
    UUID id = UUID.randomUUID();
    s.saveInbox(List.of(new JsonObject().put("id", id.toString()).put("text", secret)));
    MessagingStore again = store();
    assertThat(again.session(peer, options).orElseThrow().confirmed()).isTrue();
    assertThat(again.session(peer, options).orElseThrow().session().toBytes())
        .isEqualTo(i.session().toBytes());
    assertThat(again.inbox()).hasSize(1);
    assertThat(again.inbox().get(0).getString("text")).isEqualTo(secret);
    byte[] raw = Files.readAllBytes(s.dir().resolve("inbox.sealed"));
    assertThat(new String(raw, StandardCharsets.ISO_8859_1))
        .doesNotContain(secret)
        .doesNotContain(id.toString());
    // another store (another storage key) cannot open them
    MessagingStore other = MessagingStore.open(tmp.resolve("other"));
    Files.copy(s.dir().resolve("inbox.sealed"), other.dir().resolve("inbox.sealed"));
    assertThatThrownBy(other::inbox).isInstanceOf(MessageRefusedException.class);
  }

  @Test
  void aSessionFileMovedToAnotherPeerDoesNotOpen() throws Exception {
    MessagingStore s = store();
    s.saveSession(peer, session().session(), false);
    UUID other = UUID.randomUUID();
    Files.copy(
        s.dir().resolve("sessions").resolve(peer + ".sealed"),
        s.dir().resolve("sessions").resolve(other + ".sealed"));
    assertThatThrownBy(() -> s.session(other, options)).isInstanceOf(MessageRefusedException.class);
  }

  @Test
  void replacedSessionsAreKeptSealedNewestFirstAndOnlyTheLastFew() throws Exception {
    MessagingStore s = store();
    assertThat(s.previousSessions(peer, options)).isEmpty();
    List<byte[]> states = new java.util.ArrayList<>();
    for (int i = 0; i < MessagingStore.MAX_PREVIOUS_SESSIONS + 2; i++) {
      X3dh.Initiated i2 = session();
      states.add(0, i2.session().toBytes());
      s.archiveSession(peer, i2.session(), options);
    }
    List<byte[]> kept =
        MessagingStore.open(s.dir()).previousSessions(peer, options).stream()
            .map(RatchetSession::toBytes)
            .toList();
    assertThat(kept)
        .containsExactlyElementsOf(states.subList(0, MessagingStore.MAX_PREVIOUS_SESSIONS));
    Path f = s.dir().resolve("sessions").resolve(peer + ".previous.sealed");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
        .isEqualTo("rw-------");
    UUID other = UUID.randomUUID();
    Files.copy(f, s.dir().resolve("sessions").resolve(other + ".previous.sealed"));
    assertThatThrownBy(() -> s.previousSessions(other, options))
        .isInstanceOf(MessageRefusedException.class);
  }

  @Test
  void truncatedOrMalformedFilesAreRefused() throws Exception {
    MessagingStore s = store();
    s.saveSession(peer, session().session(), false);
    Path f = s.dir().resolve("sessions").resolve(peer + ".sealed");
    byte[] full = Files.readAllBytes(f);
    for (int len : new int[] {0, 1, 2, 10, full.length / 2, full.length - 1}) {
      Files.write(f, Arrays.copyOf(full, len));
      assertThatThrownBy(() -> s.session(peer, options))
          .as("length " + len)
          .isInstanceOf(CryptoException.class);
    }
    byte[] flag = full.clone();
    flag[1] = 7;
    Files.write(f, flag);
    assertThatThrownBy(() -> s.session(peer, options)).isInstanceOf(MalformedInputException.class);

    Path shown = s.dir().resolve("shown.txt");
    s.markShown(List.of(UUID.randomUUID()));
    String text = Files.readString(shown);
    Files.writeString(shown, text.substring(0, text.length() - 3));
    assertThatThrownBy(s::shown).isInstanceOf(MalformedInputException.class);
    Files.writeString(shown, "not-an-id\n");
    assertThatThrownBy(s::shown).isInstanceOf(MalformedInputException.class);

    MessagingStore.writeAtomic(
        s.dir(), s.dir().resolve("pins.json"), "{\"a\":".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> s.pin(peer)).isInstanceOf(MalformedInputException.class);

    Files.write(s.dir().resolve("storage.key"), new byte[31]);
    assertThatThrownBy(this::store).isInstanceOf(MalformedInputException.class);
  }

  @Test
  void filesOthersCanReadAreRefused() throws Exception {
    MessagingStore s = store();
    s.markShown(List.of(UUID.randomUUID()));
    Files.setPosixFilePermissions(
        s.dir().resolve("shown.txt"), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(s::shown)
        .isInstanceOf(KeyFileException.class)
        .hasMessageContaining("chmod 600");
    Files.setPosixFilePermissions(
        s.dir().resolve("storage.key"), PosixFilePermissions.fromString("rw-r-----"));
    assertThatThrownBy(this::store).isInstanceOf(KeyFileException.class);
  }

  @Test
  void theShownSetKeepsTheNewestIds() {
    MessagingStore s = store();
    UUID first = UUID.randomUUID();
    s.markShown(List.of(first));
    List<UUID> many = Stream.generate(UUID::randomUUID).limit(MessagingStore.MAX_SHOWN).toList();
    s.markShown(many);
    assertThat(s.shown()).hasSize(MessagingStore.MAX_SHOWN).doesNotContain(first).containsAll(many);
  }

  @Test
  void envelopesAndPrekeyAnswersAreCheckedBeforeUse() {
    assertThatThrownBy(() -> Envelope.parse(new byte[] {1}))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> Envelope.parse(new byte[] {3, 0}))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> Envelope.parse(new byte[Envelope.MAX_LENGTH + 1]))
        .isInstanceOf(MalformedInputException.class);
    assertThat(Envelope.parse(new Envelope(Envelope.Kind.RATCHET, new byte[] {9}).encode()).kind())
        .isEqualTo(Envelope.Kind.RATCHET);
    IdentityKeyPair bob = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    SignedPrekey spk = SignedPrekey.generate(4, clock.instant(), Duration.ofDays(7));
    OneTimePrekey opk = OneTimePrekey.generate(9);
    JsonObject up = PrekeyWire.upload(PrekeyBundle.create(bob, spk, null), spk, List.of(opk));
    JsonObject answer =
        up.copy()
            .put("one_time_prekey", up.getJsonArray("one_time_prekeys").getJsonObject(0))
            .put("principal_id", UUID.randomUUID().toString());
    byte[] bundle = PrekeyWire.bundle(answer);
    assertThat(bundle).isEqualTo(PrekeyBundle.create(bob, spk, opk.publicPart()).encode());
    assertThat(PrekeyBundle.verify(bundle, bob.signing().publicKey(), clock)).isNotNull();
    assertThatThrownBy(() -> PrekeyWire.bundle(answer.copy().put("signed_prekey", "AAAA")))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> PrekeyWire.bundle(answer.copy().put("one_time_prekey", "x")))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> PrekeyWire.bundle(answer.copy().put("identity_key", "%%")))
        .isInstanceOf(MalformedInputException.class);
  }
}
