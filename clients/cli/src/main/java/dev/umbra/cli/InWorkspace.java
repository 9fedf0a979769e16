package dev.umbra.cli;

import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * Base of the commands that act on one workspace: the current one, or {@code -w/--workspace}.
 * Subclasses keep a public constructor taking the {@link CliContext} (the command factory uses it).
 */
public abstract class InWorkspace implements Callable<Integer> {
  protected final CliContext ctx;
  @Mixin protected WorkspaceOption ws;
  @Mixin protected Output output;

  protected InWorkspace(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public final Integer call() {
    Api api = new Api(ctx);
    run(api, api.workspace(ws.value()));
    return 0;
  }

  /** Does the work; failures are exceptions (shown as one line, exit 1). */
  protected abstract void run(Api api, UUID workspace);
}
