package dev.umbra.cli;

import dev.umbra.client.http.JsonText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --json} switch every command shares, and table printing for people. */
public final class Output {
  @Option(names = "--json", description = "Print JSON for scripts instead of text.")
  boolean json;

  public boolean json() {
    return json;
  }

  /** Prints {@code value} as JSON when --json, else {@code text}. */
  public void print(PrintStream out, Object value, String text) {
    if (json) {
      out.println(
          value instanceof JsonObject || value instanceof JsonArray
              ? JsonText.encodePrettily(value)
              : String.valueOf(value));
    } else {
      out.println(text);
    }
  }

  /** A list: JSON array with --json, else an aligned table of {@code columns}. */
  public void table(PrintStream out, JsonArray items, List<String> columns) {
    if (json) {
      out.println(JsonText.encodePrettily(items));
      return;
    }
    if (items.isEmpty()) {
      out.println("(none)");
      return;
    }
    int[] width = new int[columns.size()];
    for (int c = 0; c < columns.size(); c++) {
      width[c] = columns.get(c).length();
      for (int i = 0; i < items.size(); i++) {
        width[c] = Math.max(width[c], cell(items.getJsonObject(i), columns.get(c)).length());
      }
    }
    StringBuilder head = new StringBuilder();
    for (int c = 0; c < columns.size(); c++) {
      head.append(
          pad(
              columns.get(c).toUpperCase(java.util.Locale.ROOT),
              width[c],
              c == columns.size() - 1));
    }
    out.println(head.toString().stripTrailing());
    for (int i = 0; i < items.size(); i++) {
      StringBuilder row = new StringBuilder();
      for (int c = 0; c < columns.size(); c++) {
        row.append(
            pad(cell(items.getJsonObject(i), columns.get(c)), width[c], c == columns.size() - 1));
      }
      out.println(row.toString().stripTrailing());
    }
  }

  private static String cell(JsonObject o, String key) {
    Object v = o.getValue(key);
    return v == null ? "-" : String.valueOf(v);
  }

  private static String pad(String s, int w, boolean last) {
    return last ? s : s + " ".repeat(w - s.length() + 2);
  }
}
