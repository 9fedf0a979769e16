package dev.umbra.bench.crypto;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.NoiseProtocol;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * One complete Noise_IK_25519_AESGCM_SHA256 handshake, both sides (fresh ephemerals), plus Split.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class NoiseHandshakeBench {
  private final X25519KeyPair client = X25519KeyPair.generate();
  private final X25519KeyPair daemon = X25519KeyPair.generate();
  private final byte[] prologue =
      RelayPrologue.encode("3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61", "machine-01HF8Z");
  private final byte[] payload = new byte[64];

  @Benchmark
  public TransportPair ikHandshake() {
    HandshakeState i =
        HandshakeState.initiator(
            NoiseProtocol.IK_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, null);
    HandshakeState r =
        HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
    r.readMessage(i.writeMessage(payload));
    i.readMessage(r.writeMessage(payload));
    r.split();
    return i.split();
  }
}
