package dev.umbra.crypto.noise;

import java.util.function.Supplier;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * Noise hash functions (Noise spec §12.5–12.8) and the Noise HKDF built on them, all from Bouncy
 * Castle.
 */
public enum NoiseHash {
  SHA256("SHA256", SHA256Digest::new),
  SHA512("SHA512", SHA512Digest::new),
  BLAKE2B("BLAKE2b", Blake2bDigest::new),
  BLAKE2S("BLAKE2s", Blake2sDigest::new);

  private final String noiseName;
  private final Supplier<Digest> digest;

  NoiseHash(String noiseName, Supplier<Digest> digest) {
    this.noiseName = noiseName;
    this.digest = digest;
  }

  public String noiseName() {
    return noiseName;
  }

  /** HASHLEN in bytes. */
  public int hashLength() {
    return digest.get().getDigestSize();
  }

  byte[] hash(byte[]... parts) {
    Digest d = digest.get();
    for (byte[] p : parts) {
      d.update(p, 0, p.length);
    }
    byte[] out = new byte[d.getDigestSize()];
    d.doFinal(out, 0);
    return out;
  }

  /**
   * Noise's {@code HKDF(chaining_key, input_key_material, num_outputs)} (§4.3): exactly RFC 5869
   * HKDF with salt = chaining key and empty info, so Bouncy Castle's HKDF computes it.
   */
  byte[][] hkdf(byte[] chainingKey, byte[] inputKeyMaterial, int outputs) {
    int len = hashLength();
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(digest.get());
    hkdf.init(new HKDFParameters(inputKeyMaterial, chainingKey, new byte[0]));
    byte[] okm = new byte[len * outputs];
    hkdf.generateBytes(okm, 0, okm.length);
    byte[][] out = new byte[outputs][];
    for (int i = 0; i < outputs; i++) {
      out[i] = java.util.Arrays.copyOfRange(okm, i * len, (i + 1) * len);
    }
    return out;
  }
}
