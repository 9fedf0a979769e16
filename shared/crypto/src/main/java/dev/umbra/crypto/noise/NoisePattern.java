package dev.umbra.crypto.noise;

/** The Noise handshake patterns this library implements. */
public enum NoisePattern {
  /** {@code IK}: {@code <- s ... -> e, es, s, ss <- e, ee, se}. */
  IK("IK", false),
  /** {@code IKpsk2}: IK with a pre-shared key mixed at the end of the second message. */
  IKPSK2("IKpsk2", true);

  private final String noiseName;
  private final boolean psk;

  NoisePattern(String noiseName, boolean psk) {
    this.noiseName = noiseName;
    this.psk = psk;
  }

  public String noiseName() {
    return noiseName;
  }

  public boolean usesPsk() {
    return psk;
  }
}
