package dev.umbra.bench.crypto;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** WebTTY key grant wrap (HPKE seal to one recipient) and unwrap (HPKE open), per second. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HpkeGrantBench {
  private X25519KeyPair recipient;
  private KeyContext context;
  private PayloadKey key;
  private PayloadKeyId keyId;
  private KeyGrant grant;

  @Setup
  public void setUp() {
    recipient = X25519KeyPair.generate();
    context =
        new KeyContext(
            "3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61",
            "srv-01HF8Z",
            "sess-0001",
            List.of(
                KeyId.of(recipient.publicKey()), KeyId.of(X25519KeyPair.generate().publicKey())));
    key = PayloadKey.generate();
    keyId = PayloadKeyId.generate();
    grant =
        KeyGrants.wrap(
            dev.umbra.crypto.webtty.KeyRole.OUTPUT, key, keyId, context, recipient.publicKey());
  }

  @Benchmark
  public KeyGrant grantWrap() {
    return KeyGrants.wrap(
        dev.umbra.crypto.webtty.KeyRole.OUTPUT, key, keyId, context, recipient.publicKey());
  }

  @Benchmark
  public PayloadKey grantUnwrap() {
    return KeyGrants.unwrap(grant, context, recipient);
  }
}
