package dev.umbra.cli.work;

import java.util.ArrayList;
import java.util.List;

/** A line difference for people: {@code -} removed, {@code +} added, {@code ' '} kept. */
final class LineDiff {
  /** Texts longer than this many lines are shown whole instead (the table would be too large). */
  static final int MAX_LINES = 2000;

  private LineDiff() {}

  static String unified(String from, String to) {
    List<String> a = from.isEmpty() ? List.of() : from.lines().toList();
    List<String> b = to.isEmpty() ? List.of() : to.lines().toList();
    StringBuilder out = new StringBuilder();
    if (a.size() > MAX_LINES || b.size() > MAX_LINES) {
      a.forEach(l -> out.append("- ").append(l).append('\n'));
      b.forEach(l -> out.append("+ ").append(l).append('\n'));
      return out.toString();
    }
    int[][] lcs = new int[a.size() + 1][b.size() + 1];
    for (int i = a.size() - 1; i >= 0; i--) {
      for (int j = b.size() - 1; j >= 0; j--) {
        lcs[i][j] =
            a.get(i).equals(b.get(j))
                ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> lines = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < a.size() || j < b.size()) {
      if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
        lines.add("  " + a.get(i++));
        j++;
      } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
        lines.add("+ " + b.get(j++));
      } else {
        lines.add("- " + a.get(i++));
      }
    }
    lines.forEach(l -> out.append(l).append('\n'));
    return out.toString();
  }
}
