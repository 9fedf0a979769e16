package dev.umbra.bench.crypto;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.secret.SecureRandoms;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * WebTTY payload seal+open through umbra-crypto versus the same AES-256-GCM work done directly with
 * the JCE (fresh random 12-byte nonce from the same SecureRandom, one reusable Cipher per
 * direction, no AAD). The difference is the cost of the layer: AAD construction, checks, copies.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WebTtyPayloadBench {
  @Param({"64", "1024", "16384"})
  public int size;

  private byte[] plaintext;
  private PayloadCipher umbra;
  private dev.umbra.crypto.webtty.PayloadSender sender;
  private SecretKeySpec rawKey;
  private Cipher rawEncrypt;
  private Cipher rawDecrypt;
  private SecureRandom random;

  @Setup
  public void setUp() throws GeneralSecurityException {
    plaintext = SecureRandoms.bytes(size);
    PayloadKey key = PayloadKey.generate();
    KeyContext context =
        new KeyContext(
            "3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61",
            "srv-01HF8Z",
            "sess-0001",
            List.of(
                KeyId.of(X25519KeyPair.generate().publicKey()),
                KeyId.of(X25519KeyPair.generate().publicKey())));
    umbra =
        new PayloadCipher(
            dev.umbra.crypto.webtty.KeyRole.OUTPUT, key, PayloadKeyId.generate(), context);
    sender = new dev.umbra.crypto.webtty.PayloadSender(umbra, context.recipients().get(0));
    rawKey = new SecretKeySpec(key.exportKeyBytes(), "AES");
    rawEncrypt = Cipher.getInstance("AES/GCM/NoPadding");
    rawDecrypt = Cipher.getInstance("AES/GCM/NoPadding");
    random = SecureRandoms.random();
  }

  @Benchmark
  public byte[] umbraSealOpen() {
    SealedPayload sealed = sender.seal(Stream.STDOUT, plaintext);
    return umbra.open(sealed);
  }

  @Benchmark
  public byte[] rawJceSealOpen() throws GeneralSecurityException {
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    rawEncrypt.init(Cipher.ENCRYPT_MODE, rawKey, new GCMParameterSpec(128, nonce));
    byte[] ct = rawEncrypt.doFinal(plaintext);
    rawDecrypt.init(Cipher.DECRYPT_MODE, rawKey, new GCMParameterSpec(128, nonce));
    return rawDecrypt.doFinal(ct);
  }
}
