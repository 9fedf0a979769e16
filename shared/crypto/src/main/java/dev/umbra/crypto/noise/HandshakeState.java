package dev.umbra.crypto.noise;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * Noise HandshakeState (spec §5.3) for {@code IK} and {@code IKpsk2} over 25519:
 *
 * <pre>
 *   IK:      &lt;- s  ...  -&gt; e, es, s, ss   &lt;- e, ee, se
 *   IKpsk2:  &lt;- s  ...  -&gt; e, es, s, ss   &lt;- e, ee, se, psk
 * </pre>
 *
 * The initiator calls {@link #writeMessage} then {@link #readMessage}; the responder the reverse.
 * After the second message {@link #split()} yields the {@link TransportPair}. Any failure (bad tag,
 * truncated message, low-order key) leaves the state failed: every later call throws. Not
 * thread-safe.
 */
public final class HandshakeState {
  /** Which side of the handshake this state plays. */
  public enum Role {
    INITIATOR,
    RESPONDER
  }

  private static final int DH_LEN = CryptoConstants.X25519_KEY_LENGTH;

  private final NoiseProtocol protocol;
  private final Role role;
  private final SymmetricState symmetric;
  private final X25519KeyPair localStatic;
  private X25519KeyPair localEphemeral;
  private X25519PublicKey remoteStatic;
  private X25519PublicKey remoteEphemeral;
  private final byte[] psk;
  private int messageIndex;
  private boolean failed;
  private boolean split;

  private HandshakeState(Builder b) {
    this.protocol = Objects.requireNonNull(b.protocol, "protocol");
    this.role = Objects.requireNonNull(b.role, "role");
    this.localStatic = Objects.requireNonNull(b.localStatic, "local static key pair");
    this.localEphemeral = b.fixedEphemeral;
    this.remoteStatic = b.remoteStatic;
    if (role == Role.INITIATOR && remoteStatic == null) {
      throw new InvalidStateException("IK initiator needs the responder's static public key");
    }
    if (role == Role.RESPONDER && remoteStatic != null) {
      throw new InvalidStateException(
          "IK responder learns the initiator's static key from message 1; do not set it");
    }
    if (protocol.pattern().usesPsk()) {
      if (b.psk == null) {
        throw new InvalidStateException(protocol.name() + " needs a 32-byte pre-shared key");
      }
      this.psk = Bytes.checkedCopy(b.psk, 32, "Noise PSK");
    } else {
      if (b.psk != null) {
        throw new InvalidStateException(protocol.name() + " takes no pre-shared key");
      }
      this.psk = null;
    }
    this.symmetric = new SymmetricState(protocol);
    symmetric.mixHash(b.prologue == null ? new byte[0] : b.prologue);
    // pre-message "<- s": the responder's static public key
    symmetric.mixHash(
        role == Role.INITIATOR ? remoteStatic.toBytes() : localStatic.publicKey().toBytes());
  }

  public static Builder builder(NoiseProtocol protocol, Role role) {
    return new Builder(protocol, role);
  }

  /**
   * Initiator (client) of IK / IKpsk2: knows the responder's static key in advance. {@code psk}
   * only for IKpsk2.
   */
  public static HandshakeState initiator(
      NoiseProtocol protocol,
      X25519KeyPair localStatic,
      X25519PublicKey responderStatic,
      byte[] prologue,
      byte[] psk) {
    return builder(protocol, Role.INITIATOR)
        .localStatic(localStatic)
        .remoteStatic(responderStatic)
        .prologue(prologue)
        .psk(psk)
        .build();
  }

  /** Responder (daemon) of IK / IKpsk2. {@code psk} only for IKpsk2. */
  public static HandshakeState responder(
      NoiseProtocol protocol, X25519KeyPair localStatic, byte[] prologue, byte[] psk) {
    return builder(protocol, Role.RESPONDER)
        .localStatic(localStatic)
        .prologue(prologue)
        .psk(psk)
        .build();
  }

  public NoiseProtocol protocol() {
    return protocol;
  }

  public Role role() {
    return role;
  }

  /** True once both handshake messages have been processed. */
  public boolean isComplete() {
    return messageIndex == 2;
  }

  /** The handshake hash {@code h}; after completion it is the channel binding value. */
  public byte[] handshakeHash() {
    return symmetric.handshakeHash();
  }

  /**
   * The peer's static key: known from the start for the initiator, after message 1 for the
   * responder.
   */
  public X25519PublicKey remoteStaticKey() {
    if (remoteStatic == null) {
      throw new InvalidStateException(
          "the initiator's static key is not known before message 1 is read");
    }
    return remoteStatic;
  }

  /** Writes the next handshake message with {@code payload} encrypted inside it. */
  public byte[] writeMessage(byte[] payload) {
    boolean mine =
        (messageIndex == 0 && role == Role.INITIATOR)
            || (messageIndex == 1 && role == Role.RESPONDER);
    checkUsable(mine, "write");
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (localEphemeral == null) {
        localEphemeral = X25519KeyPair.generate();
      }
      byte[] e = localEphemeral.publicKey().toBytes();
      out.writeBytes(e);
      symmetric.mixHash(e);
      if (psk != null) {
        symmetric.mixKey(e);
      }
      if (messageIndex == 0) {
        symmetric.mixKey(localEphemeral.privateKey().agree(remoteStatic)); // es
        out.writeBytes(symmetric.encryptAndHash(localStatic.publicKey().toBytes())); // s
        symmetric.mixKey(localStatic.privateKey().agree(remoteStatic)); // ss
      } else {
        symmetric.mixKey(localEphemeral.privateKey().agree(remoteEphemeral)); // ee
        symmetric.mixKey(localEphemeral.privateKey().agree(remoteStatic)); // se
        if (psk != null) {
          symmetric.mixKeyAndHash(psk); // psk
        }
      }
      out.writeBytes(symmetric.encryptAndHash(payload));
      messageIndex++;
      byte[] message = out.toByteArray();
      if (message.length > CryptoConstants.NOISE_MAX_MESSAGE_LENGTH) {
        throw new MalformedInputException("Noise handshake message would exceed 65535 bytes");
      }
      return message;
    } catch (RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  /** Reads the next handshake message and returns its decrypted payload. */
  public byte[] readMessage(byte[] message) {
    boolean mine =
        (messageIndex == 0 && role == Role.RESPONDER)
            || (messageIndex == 1 && role == Role.INITIATOR);
    checkUsable(mine, "read");
    try {
      int minimum =
          DH_LEN
              + CryptoConstants.AEAD_TAG_LENGTH
              + (messageIndex == 0 ? DH_LEN + CryptoConstants.AEAD_TAG_LENGTH : 0);
      if (message.length < minimum) {
        throw new MalformedInputException(
            "Noise handshake message "
                + (messageIndex + 1)
                + " truncated: "
                + message.length
                + " bytes, at least "
                + minimum
                + " expected");
      }
      if (message.length > CryptoConstants.NOISE_MAX_MESSAGE_LENGTH) {
        throw new MalformedInputException("Noise handshake message exceeds 65535 bytes");
      }
      int offset = 0;
      byte[] e = Arrays.copyOfRange(message, offset, offset + DH_LEN);
      offset += DH_LEN;
      remoteEphemeral = X25519PublicKey.fromBytes(e);
      symmetric.mixHash(e);
      if (psk != null) {
        symmetric.mixKey(e);
      }
      if (messageIndex == 0) {
        symmetric.mixKey(localStatic.privateKey().agree(remoteEphemeral)); // es
        int sLen = DH_LEN + CryptoConstants.AEAD_TAG_LENGTH;
        byte[] s = symmetric.decryptAndHash(Arrays.copyOfRange(message, offset, offset + sLen));
        offset += sLen;
        remoteStatic = X25519PublicKey.fromBytes(s);
        symmetric.mixKey(localStatic.privateKey().agree(remoteStatic)); // ss
      } else {
        symmetric.mixKey(localEphemeral.privateKey().agree(remoteEphemeral)); // ee
        symmetric.mixKey(localStatic.privateKey().agree(remoteEphemeral)); // se
        if (psk != null) {
          symmetric.mixKeyAndHash(psk); // psk
        }
      }
      byte[] payload =
          symmetric.decryptAndHash(Arrays.copyOfRange(message, offset, message.length));
      messageIndex++;
      return payload;
    } catch (RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  /**
   * After the handshake: the transport cipher states (send/receive for this role). Callable once.
   */
  public TransportPair split() {
    if (failed) {
      throw new InvalidStateException("Noise handshake failed earlier; start a new one");
    }
    if (!isComplete()) {
      throw new InvalidStateException("Noise handshake is not complete; cannot split yet");
    }
    if (split) {
      throw new InvalidStateException("Noise handshake already split");
    }
    split = true;
    CipherState[] pair = symmetric.split();
    return role == Role.INITIATOR
        ? new TransportPair(
            pair[0], pair[1], symmetric.handshakeHash(), CryptoConstants.NOISE_REKEY_INTERVAL)
        : new TransportPair(
            pair[1], pair[0], symmetric.handshakeHash(), CryptoConstants.NOISE_REKEY_INTERVAL);
  }

  private void checkUsable(boolean mine, String action) {
    if (failed) {
      throw new InvalidStateException("Noise handshake failed earlier; start a new one");
    }
    if (messageIndex >= 2) {
      throw new InvalidStateException("Noise handshake already complete; use split()");
    }
    if (!mine) {
      throw new InvalidStateException(
          role + " cannot " + action + " handshake message " + (messageIndex + 1));
    }
  }

  /** Configures a {@link HandshakeState}. */
  public static final class Builder {
    private final NoiseProtocol protocol;
    private final Role role;
    private X25519KeyPair localStatic;
    private X25519KeyPair fixedEphemeral;
    private X25519PublicKey remoteStatic;
    private byte[] prologue;
    private byte[] psk;

    private Builder(NoiseProtocol protocol, Role role) {
      this.protocol = protocol;
      this.role = role;
    }

    public Builder localStatic(X25519KeyPair keyPair) {
      this.localStatic = keyPair;
      return this;
    }

    public Builder remoteStatic(X25519PublicKey key) {
      this.remoteStatic = key;
      return this;
    }

    /**
     * Prologue bound into the handshake hash (Umbra binds protocol version, workspace and target).
     */
    public Builder prologue(byte[] prologue) {
      this.prologue = prologue == null ? null : prologue.clone();
      return this;
    }

    public Builder psk(byte[] psk) {
      this.psk = psk == null ? null : psk.clone();
      return this;
    }

    /**
     * INSECURE outside test vectors: uses a fixed ephemeral key instead of a fresh random one.
     * Reusing an ephemeral key across handshakes destroys forward secrecy.
     */
    public Builder insecureFixedEphemeral(X25519KeyPair ephemeral) {
      this.fixedEphemeral = ephemeral;
      return this;
    }

    public HandshakeState build() {
      try {
        return new HandshakeState(this);
      } catch (NullPointerException e) {
        throw new CryptoException("incomplete Noise handshake configuration: " + e.getMessage(), e);
      }
    }
  }
}
