package dev.umbra.crypto.secret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Argon2id;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.testing.Vectors;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class Argon2idHasherTest {
  private final Argon2idHasher hasher = Argon2idHasher.defaults();

  @Test
  void defaultsAreAtLeastOwaspRecommendation() {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB (19 MiB), t=2, p=1
    assertThat(hasher.parameters().atLeast(new Argon2idParameters(19456, 2, 1))).isTrue();
  }

  @Test
  void encodesParametersSaltAndHashAsPhcString() {
    String encoded = hasher.hash("umb_secret".toCharArray());
    assertThat(encoded)
        .matches("\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
  }

  @Test
  void verifiesTheRightSecretAndRejectsAWrongOne() {
    String encoded = hasher.hash("correct horse".toCharArray());
    assertThat(hasher.verify(encoded, "correct horse".toCharArray())).isTrue();
    assertThat(hasher.verify(encoded, "correct hors".toCharArray())).isFalse();
    assertThat(
            hasher.verify(
                encoded, "correct horse".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isTrue();
  }

  @Test
  void saltsEveryHash() {
    assertThat(hasher.hash(new byte[] {1})).isNotEqualTo(hasher.hash(new byte[] {1}));
  }

  @Test
  void needsRehashWhenStoredParametersAreWeaker() {
    String weak = new Argon2idHasher(new Argon2idParameters(64, 1, 1)).hash(new byte[] {1});
    assertThat(hasher.needsRehash(weak)).isTrue();
    assertThat(hasher.verify(weak, new byte[] {1})).isTrue();
    assertThat(hasher.needsRehash(hasher.hash(new byte[] {1}))).isFalse();
  }

  @Test
  void rejectsMalformedOrHostileEncodings() {
    String good = new Argon2idHasher(new Argon2idParameters(64, 1, 1)).hash(new byte[] {1});
    for (String bad :
        new String[] {
          "",
          "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
          good.replace("v=19", "v=16"),
          good.substring(0, good.length() - 30),
          good.replace("m=64", "m=99999999"),
          good + "$"
        }) {
      assertThatThrownBy(() -> hasher.verify(bad, new byte[] {1}))
          .as(bad)
          .isInstanceOf(MalformedInputException.class);
    }
  }

  @Test
  void reproducesTheRfc9106Argon2idKat() {
    String kat = Vectors.text("argon2/argon2id-kat.txt");
    Matcher tag = Pattern.compile("Tag: ([0-9a-f ]+)").matcher(kat);
    assertThat(tag.find()).isTrue();
    byte[] expected = Hex.d(tag.group(1).replace(" ", ""));
    byte[] password = new byte[32];
    Arrays.fill(password, (byte) 1);
    byte[] salt = new byte[16];
    Arrays.fill(salt, (byte) 2);
    byte[] secret = new byte[8];
    Arrays.fill(secret, (byte) 3);
    byte[] ad = new byte[12];
    Arrays.fill(ad, (byte) 4);
    assertThat(kat)
        .contains("Memory: 32 KiB, Iterations: 3, Parallelism: 4 lanes, Tag length: 32 bytes");
    byte[] actual = Argon2id.derive(password, salt, secret, ad, 32, 3, 4, 32);
    assertThat(Hex.e(actual)).isEqualTo(Hex.e(expected));
    Vectors.report("argon2/argon2id-kat.txt", 1, 0, 0, "skipped");
  }
}
