package dev.umbra.cli;

import io.vertx.core.json.JsonArray;
import java.util.List;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * A workspace command that lists one collection: its items as an aligned table of {@code columns},
 * or as a JSON array with {@code --json} ({@link Output#table}). A subclass names what to fetch and
 * which columns to show, nothing else.
 */
public abstract class WorkspaceList extends InWorkspace {
  private final BiFunction<Api, UUID, JsonArray> items;
  private final List<String> columns;

  /**
   * @param items the items of a workspace (e.g. every page of a path, {@link Api#all})
   * @param columns the members shown, in order
   */
  protected WorkspaceList(
      CliContext ctx, BiFunction<Api, UUID, JsonArray> items, String... columns) {
    super(ctx);
    this.items = items;
    this.columns = List.of(columns);
  }

  @Override
  protected final void run(Api api, UUID w) {
    output.table(ctx.out(), items.apply(api, w), columns);
  }
}
