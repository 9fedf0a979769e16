package dev.umbra.cli;

/**
 * A command line the command cannot act on (a malformed argument, a missing or conflicting option)
 * found by the command itself: one line, a pointer to {@code --help}, exit {@link
 * UmbraCli#EXIT_USAGE}. Failures of a well-formed command are {@link CliException}s.
 */
public final class UsageException extends RuntimeException {
  public UsageException(String message) {
    super(message);
  }
}
