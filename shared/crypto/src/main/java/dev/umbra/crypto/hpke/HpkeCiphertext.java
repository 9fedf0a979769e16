package dev.umbra.crypto.hpke;

import dev.umbra.crypto.MalformedInputException;

/**
 * Output of single-shot HPKE: the encapsulated key {@code enc} and the AEAD ciphertext {@code ct ||
 * tag}.
 */
public record HpkeCiphertext(byte[] enc, byte[] ciphertext) {
  public HpkeCiphertext {
    if (enc == null || ciphertext == null) {
      throw new MalformedInputException("HPKE enc and ciphertext are required");
    }
    enc = enc.clone();
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] enc() {
    return enc.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }
}
