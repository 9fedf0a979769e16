package dev.umbra.cli;

/** A failure to show the user as one line, with exit code 1. */
public final class CliException extends RuntimeException {
  public CliException(String message) {
    super(message);
  }
}
