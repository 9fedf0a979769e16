package dev.umbra.client.messaging;

import dev.umbra.crypto.KeyFileException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.messaging.InMemoryPrekeySecrets;
import dev.umbra.crypto.messaging.RatchetOptions;
import dev.umbra.crypto.messaging.RatchetSession;
import dev.umbra.crypto.messaging.SealedSessionState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * One messaging identity's state on this device (docs/messaging.md, "Clients"), in a 0700
 * directory, every file 0600 and replaced atomically (no older copy is kept: an old sealed state
 * would bring back deleted message keys or consumed prekeys):
 *
 * <ul>
 *   <li>{@code storage.key}: the 32-byte key that seals everything below;
 *   <li>{@code prekeys.sealed}: the private prekeys ({@link InMemoryPrekeySecrets}, sealed), with
 *       {@code prekeys.json} (public counters: next ids, current signed prekey);
 *   <li>{@code sessions/<peer>.sealed}: {@code u8 1 || u8 confirmed || sealed ratchet state} per
 *       peer principal;
 *   <li>{@code sessions/<peer>.previous.sealed}: up to {@value #MAX_PREVIOUS_SESSIONS} sessions
 *       with that peer that a newer one replaced, newest first (sealed {@code u8 count || (u32
 *       length || ratchet state)*}), so copies still in flight on them open;
 *   <li>{@code inbox.sealed}: received, decrypted messages not yet shown (sealed JSON);
 *   <li>{@code shown.txt}: ids already shown (one UUID a line, the newest {@value #MAX_SHOWN});
 *   <li>{@code pins.json}: Ed25519 keys pinned for agents (owner side).
 * </ul>
 *
 * Any file that is malformed, truncated, too large or readable by group/others is refused.
 */
public final class MessagingStore {
  public static final int MAX_SHOWN = 10_000;
  static final long MAX_SESSION_FILE = (1 << 20) + 4096;
  static final int MAX_PREVIOUS_SESSIONS = 3;
  // the sealed file stays under SealedSessionState's 1 MiB limit
  private static final int MAX_PREVIOUS_BYTES = (1 << 20) - 1024;
  static final long MAX_FILE = 64L << 20;
  private static final Set<PosixFilePermission> FILE_MODE = PrivateFiles.FILE_MODE;

  private final Path dir;
  private final AeadKey storageKey;

  private MessagingStore(Path dir, AeadKey storageKey) {
    this.dir = dir;
    this.storageKey = storageKey;
  }

  /** Opens (creating on first use) the store in {@code dir}; parents are created 0700. */
  public static MessagingStore open(Path dir) {
    KeyFiles.ensurePrivateDirectory(dir);
    KeyFiles.ensurePrivateDirectory(dir.resolve("sessions"));
    Path keyFile = dir.resolve("storage.key");
    if (!Files.exists(keyFile, LinkOption.NOFOLLOW_LINKS)) {
      AeadKey k = AeadKey.generate();
      writeAtomic(dir, keyFile, k.exportKeyBytes());
      return new MessagingStore(dir, k);
    }
    byte[] raw = readPrivate(keyFile, AeadKey.LENGTH);
    if (raw.length != AeadKey.LENGTH) {
      throw new MalformedInputException(keyFile + " is not a 32-byte storage key");
    }
    return new MessagingStore(dir, AeadKey.fromBytes(raw));
  }

  public Path dir() {
    return dir;
  }

  private static final java.util.concurrent.ConcurrentHashMap<
          Path, java.util.concurrent.locks.ReentrantLock>
      LOCKS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Runs {@code work} holding this store's lock: a lock in this JVM and an exclusive lock on the
   * {@code lock} file for other processes (an `umbra agent recv` beside a running `umbra agent
   * run`), so a state is never loaded by one writer while another replaces it. Reentrant.
   */
  public <T> T locked(java.util.function.Supplier<T> work) {
    java.util.concurrent.locks.ReentrantLock l =
        LOCKS.computeIfAbsent(
            dir.toAbsolutePath().normalize(), k -> new java.util.concurrent.locks.ReentrantLock());
    l.lock();
    try {
      if (l.getHoldCount() > 1) {
        return work.get();
      }
      try (java.nio.channels.FileChannel ch =
              java.nio.channels.FileChannel.open(
                  dir.resolve("lock"),
                  java.util.Set.of(
                      java.nio.file.StandardOpenOption.CREATE,
                      java.nio.file.StandardOpenOption.WRITE),
                  PosixFilePermissions.asFileAttribute(FILE_MODE));
          java.nio.channels.FileLock fl = ch.lock()) {
        return work.get();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot lock " + dir + ": " + e.getMessage(), e);
      }
    } finally {
      l.unlock();
    }
  }

  // ---- sessions ----

  /** A peer's session and whether a message from the peer ever opened on it. */
  public record StoredSession(RatchetSession session, boolean confirmed) {}

  public Optional<StoredSession> session(UUID peer, RatchetOptions options) {
    Path f = sessionFile(peer);
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    byte[] b = readPrivate(f, MAX_SESSION_FILE);
    if (b.length < 3 || b[0] != 1 || (b[1] != 0 && b[1] != 1)) {
      throw new MalformedInputException(f + " is not a session file");
    }
    byte[] sealed = java.util.Arrays.copyOfRange(b, 2, b.length);
    return Optional.of(
        new StoredSession(
            RatchetSession.openSealed(storageKey, sessionId(peer), sealed, options), b[1] == 1));
  }

  public void saveSession(UUID peer, RatchetSession session, boolean confirmed) {
    byte[] sealed = session.seal(storageKey, sessionId(peer));
    byte[] b = new byte[sealed.length + 2];
    b[0] = 1;
    b[1] = (byte) (confirmed ? 1 : 0);
    System.arraycopy(sealed, 0, b, 2, sealed.length);
    writeAtomic(dir.resolve("sessions"), sessionFile(peer), b);
  }

  /**
   * Sessions with {@code peer} that a newer one replaced (both sides started at once, or the peer
   * started over), newest first: a copy the peer sent on one of them before it switched still
   * opens.
   */
  public List<RatchetSession> previousSessions(UUID peer, RatchetOptions options) {
    Path f = previousFile(peer);
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    byte[] plain =
        SealedSessionState.open(storageKey, previousId(peer), readPrivate(f, MAX_SESSION_FILE));
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(plain);
    List<RatchetSession> out = new ArrayList<>();
    try {
      int n = Byte.toUnsignedInt(in.get());
      for (int i = 0; i < n && i < MAX_PREVIOUS_SESSIONS; i++) {
        byte[] state = new byte[in.getInt()];
        in.get(state);
        out.add(RatchetSession.fromBytes(state, options));
      }
    } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
      throw new MalformedInputException(f + " is not a previous-sessions file");
    }
    if (in.hasRemaining()) {
      throw new MalformedInputException(f + " has bytes after its sessions");
    }
    return out;
  }

  /** Replaces the previous sessions with {@code sessions} (newest first; the oldest go first). */
  public void savePreviousSessions(UUID peer, List<RatchetSession> sessions) {
    List<byte[]> states = new ArrayList<>();
    int size = 1;
    for (RatchetSession s : sessions) {
      byte[] state = s.toBytes();
      if (states.size() == MAX_PREVIOUS_SESSIONS || size + 4 + state.length > MAX_PREVIOUS_BYTES) {
        break;
      }
      states.add(state);
      size += 4 + state.length;
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(size).put((byte) states.size());
    states.forEach(st -> b.putInt(st.length).put(st));
    writeAtomic(
        dir.resolve("sessions"),
        previousFile(peer),
        SealedSessionState.seal(storageKey, previousId(peer), b.array()));
  }

  /** Keeps {@code replaced} as the newest previous session with {@code peer}. */
  public void archiveSession(UUID peer, RatchetSession replaced, RatchetOptions options) {
    List<RatchetSession> all = new ArrayList<>();
    all.add(replaced);
    all.addAll(previousSessions(peer, options));
    savePreviousSessions(peer, all);
  }

  private Path previousFile(UUID peer) {
    return dir.resolve("sessions").resolve(peer + ".previous.sealed");
  }

  private static String previousId(UUID peer) {
    return "session/" + peer + "/previous";
  }

  private Path sessionFile(UUID peer) {
    return dir.resolve("sessions").resolve(peer + ".sealed");
  }

  private static String sessionId(UUID peer) {
    return "session/" + peer;
  }

  // ---- prekeys ----

  public Optional<InMemoryPrekeySecrets> prekeys() {
    Path f = dir.resolve("prekeys.sealed");
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    return Optional.of(
        InMemoryPrekeySecrets.openSealed(storageKey, "prekeys", readPrivate(f, MAX_FILE)));
  }

  public void savePrekeys(InMemoryPrekeySecrets secrets) {
    writeAtomic(dir, dir.resolve("prekeys.sealed"), secrets.seal(storageKey, "prekeys"));
  }

  /** Public prekey bookkeeping (ids, current signed prekey); empty object when none yet. */
  public JsonObject prekeyMeta() {
    return readJson("prekeys.json").orElseGet(JsonObject::new);
  }

  public void savePrekeyMeta(JsonObject meta) {
    writeJson("prekeys.json", meta);
  }

  // ---- inbox and shown ids ----

  /** Received, decrypted messages not shown yet (oldest first). */
  public List<JsonObject> inbox() {
    Path f = dir.resolve("inbox.sealed");
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    byte[] plain = SealedSessionState.open(storageKey, "inbox", readPrivate(f, MAX_FILE));
    JsonArray a;
    try {
      a = new JsonArray(new String(plain, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new MalformedInputException(f + " is not a JSON array");
    }
    List<JsonObject> out = new ArrayList<>();
    for (Object o : a) {
      if (!(o instanceof JsonObject j) || j.getString("id") == null) {
        throw new MalformedInputException(f + " holds an entry without an id");
      }
      out.add(j);
    }
    return out;
  }

  public void saveInbox(List<JsonObject> entries) {
    byte[] plain =
        new JsonArray(new ArrayList<>(entries)).encode().getBytes(StandardCharsets.UTF_8);
    writeAtomic(
        dir, dir.resolve("inbox.sealed"), SealedSessionState.seal(storageKey, "inbox", plain));
  }

  /** Ids shown before, oldest first. */
  public Set<UUID> shown() {
    Path f = dir.resolve("shown.txt");
    Set<UUID> out = new LinkedHashSet<>();
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    String text = new String(readPrivate(f, 40L * (MAX_SHOWN + 1)), StandardCharsets.UTF_8);
    if (!text.isEmpty() && !text.endsWith("\n")) {
      throw new MalformedInputException(f + " is truncated");
    }
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      try {
        if (line.length() != 36) {
          throw new IllegalArgumentException();
        }
        out.add(UUID.fromString(line));
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException(f + " holds a line that is not an id");
      }
    }
    return out;
  }

  /** Adds {@code ids} to the shown set, keeping the newest {@link #MAX_SHOWN}. */
  public void markShown(List<UUID> ids) {
    Set<UUID> all = shown();
    all.addAll(ids);
    List<UUID> list = new ArrayList<>(all);
    StringBuilder sb = new StringBuilder();
    for (UUID id : list.subList(Math.max(0, list.size() - MAX_SHOWN), list.size())) {
      sb.append(id).append('\n');
    }
    writeAtomic(dir, dir.resolve("shown.txt"), sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  // ---- pins ----

  /** The Ed25519 key (hex) pinned for {@code peer}, if any. */
  public Optional<String> pin(UUID peer) {
    return readJson("pins.json").map(j -> j.getString(peer.toString()));
  }

  public void savePin(UUID peer, String ed25519Hex) {
    JsonObject j = readJson("pins.json").orElseGet(JsonObject::new);
    j.put(peer.toString(), ed25519Hex);
    writeJson("pins.json", j);
  }

  // ---- files ----

  private Optional<JsonObject> readJson(String name) {
    Path f = dir.resolve(name);
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new JsonObject(new String(readPrivate(f, 1 << 20), StandardCharsets.UTF_8)));
    } catch (RuntimeException e) {
      if (e instanceof KeyFileException || e instanceof MalformedInputException) {
        throw e;
      }
      throw new MalformedInputException(f + " is not a JSON object");
    }
  }

  private void writeJson(String name, JsonObject j) {
    writeAtomic(dir, dir.resolve(name), j.encodePrettily().getBytes(StandardCharsets.UTF_8));
  }

  /** A 0600 regular file of at most {@code max} bytes; anything else is refused. */
  static byte[] readPrivate(Path f, long max) {
    try {
      if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new KeyFileException(f + " is not a regular file");
      }
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS);
      if (!FILE_MODE.containsAll(p)) {
        throw new KeyFileException(
            f + " has mode " + PosixFilePermissions.toString(p) + "; fix it with: chmod 600 " + f);
      }
      if (Files.size(f) > max) {
        throw new MalformedInputException(f + " is larger than " + max + " bytes");
      }
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  static void writeAtomic(Path dir, Path target, byte[] bytes) {
    try {
      PrivateFiles.replace(target, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }
}
