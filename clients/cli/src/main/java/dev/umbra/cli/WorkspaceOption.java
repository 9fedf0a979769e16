package dev.umbra.cli;

import picocli.CommandLine.Option;

/** {@code -w/--workspace}: act on another workspace than the current one. */
public final class WorkspaceOption {
  @Option(
      names = {"-w", "--workspace"},
      paramLabel = "<name|id>",
      description = "Workspace to act on (default: the current one).")
  String workspace;

  public String value() {
    return workspace;
  }
}
