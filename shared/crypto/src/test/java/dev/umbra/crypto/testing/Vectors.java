package dev.umbra.crypto.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Access to the official test vectors in {@code ../shared/vectors} (system property {@code
 * umbra.vectors.dir}). When they are absent the calling test is skipped with a message that says
 * so, on stderr and in the JUnit report — never silently passed.
 */
public final class Vectors {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Vectors() {}

  public static Path file(String relative) {
    String dir = System.getProperty("umbra.vectors.dir");
    Path path = dir == null ? null : Path.of(dir).resolve(relative);
    boolean present = path != null && Files.isRegularFile(path);
    if (!present) {
      String message =
          "SKIPPED: test vector file "
              + relative
              + " not found (umbra.vectors.dir="
              + dir
              + "); official vector replay did NOT run";
      System.err.println("[umbra-crypto] " + message);
      Assumptions.abort(message);
    }
    return path;
  }

  public static JsonNode json(String relative) {
    try {
      return MAPPER.readTree(file(relative).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String text(String relative) {
    try {
      return Files.readString(file(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Prints a count line that the final report quotes. */
  public static void report(
      String file, int validPassed, int invalidRejected, int other, String otherWhat) {
    System.out.printf(
        "[umbra-crypto vectors] %s: %d valid passed, %d invalid rejected, %d %s%n",
        file, validPassed, invalidRejected, other, otherWhat);
  }
}
