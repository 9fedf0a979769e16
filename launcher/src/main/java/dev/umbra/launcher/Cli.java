package dev.umbra.launcher;

/** Hands every command but {@code dev} to the umbra CLI. */
final class Cli {
  private Cli() {}

  static int run(String[] args) {
    System.err.println("usage: umbra dev   (the CLI commands arrive with the control plane)");
    return 2;
  }
}
