package dev.umbra.crypto.secret;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Argon2id;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Argon2id hashing of API tokens and pairing PSKs, encoded as a PHC string {@code
 * $argon2id$v=19$m=<KiB>,t=<iterations>,p=<parallelism>$<salt>$<hash>} (unpadded standard base64),
 * so parameters travel with the hash and can be raised later ({@link #needsRehash}).
 */
public final class Argon2idHasher {
  private static final Pattern PHC =
      Pattern.compile(
          "\\$argon2id\\$v=19\\$m=(\\d{1,8}),t=(\\d{1,3}),p=(\\d{1,3})\\$([A-Za-z0-9+/]{11,88})\\$([A-Za-z0-9+/]{22,88})");
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64_DECODER = Base64.getDecoder();

  private final Argon2idParameters parameters;

  public Argon2idHasher(Argon2idParameters parameters) {
    this.parameters = parameters;
  }

  /** A hasher with OWASP's current minimum recommendation. */
  public static Argon2idHasher defaults() {
    return new Argon2idHasher(Argon2idParameters.OWASP_MINIMUM);
  }

  public Argon2idParameters parameters() {
    return parameters;
  }

  public String hash(char[] secret) {
    byte[] bytes = utf8(secret);
    try {
      return hash(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  public String hash(byte[] secret) {
    byte[] salt = SecureRandoms.bytes(CryptoConstants.ARGON2ID_SALT_LENGTH);
    byte[] hash = compute(secret, salt, parameters, CryptoConstants.ARGON2ID_HASH_LENGTH);
    return "$argon2id$v=19$m="
        + parameters.memoryKiB()
        + ",t="
        + parameters.iterations()
        + ",p="
        + parameters.parallelism()
        + "$"
        + B64.encodeToString(salt)
        + "$"
        + B64.encodeToString(hash);
  }

  /**
   * Recomputes the hash of {@code secret} with the parameters and salt in {@code encoded} and
   * compares in constant time. A malformed {@code encoded} throws {@link MalformedInputException}.
   */
  public boolean verify(String encoded, byte[] secret) {
    Decoded decoded = decode(encoded);
    byte[] actual = compute(secret, decoded.salt, decoded.parameters, decoded.hash.length);
    return ConstantTime.equals(actual, decoded.hash);
  }

  public boolean verify(String encoded, char[] secret) {
    byte[] bytes = utf8(secret);
    try {
      return verify(encoded, bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** True when {@code encoded} was made with weaker parameters than this hasher's. */
  public boolean needsRehash(String encoded) {
    return !decode(encoded).parameters.atLeast(parameters);
  }

  private static byte[] compute(byte[] secret, byte[] salt, Argon2idParameters p, int length) {
    return Argon2id.derive(
        secret, salt, null, null, p.memoryKiB(), p.iterations(), p.parallelism(), length);
  }

  private record Decoded(Argon2idParameters parameters, byte[] salt, byte[] hash) {}

  private static Decoded decode(String encoded) {
    if (encoded == null) {
      throw new MalformedInputException("argon2id hash is missing");
    }
    Matcher m = PHC.matcher(encoded);
    if (!m.matches()) {
      throw new MalformedInputException(
          "not an argon2id PHC string ($argon2id$v=19$m=..,t=..,p=..$salt$hash)");
    }
    Argon2idParameters parameters =
        new Argon2idParameters(
            Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)));
    try {
      byte[] salt = B64_DECODER.decode(m.group(4));
      byte[] hash = B64_DECODER.decode(m.group(5));
      if (salt.length < 8 || hash.length < 16) {
        throw new MalformedInputException("argon2id salt or hash too short");
      }
      return new Decoded(parameters, salt, hash);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException("argon2id salt or hash is not valid base64", e);
    }
  }

  private static byte[] utf8(char[] secret) {
    try {
      ByteBuffer buffer =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(secret));
      byte[] out = new byte[buffer.remaining()];
      buffer.get(out);
      if (buffer.hasArray()) {
        Arrays.fill(buffer.array(), (byte) 0);
      }
      return out;
    } catch (CharacterCodingException e) {
      throw new MalformedInputException("secret is not valid UTF-16 text", e);
    }
  }
}
