package dev.umbra.crypto.workflow;

import dev.umbra.crypto.workflow.WorkflowFormatException.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The bounded parser of the YAML subset workflow definitions are written in (docs/agents.md,
 * "Workflows"): block mappings with plain keys, block sequences, one-line flow sequences of
 * scalars, and plain, single- or double-quoted scalars, with {@code #} comments. Every scalar is a
 * string (the schema, {@link WorkflowDefinition}, gives it a type). Anything else YAML has —
 * anchors, aliases, tags, flow mappings, block scalars, several documents, directives, duplicate
 * keys, tabs — is refused, as are texts over {@link #MAX_CHARS}, more than {@link #MAX_LINES}
 * lines, nesting deeper than {@link #MAX_DEPTH} or more than {@link #MAX_NODES} values. It
 * allocates in proportion to its input and recurses at most {@link #MAX_DEPTH} levels.
 */
public final class WorkflowYaml {
  public static final int MAX_CHARS = 64 * 1024;
  public static final int MAX_LINES = 2000;
  public static final int MAX_DEPTH = 6;
  public static final int MAX_NODES = 4096;

  private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]{0,63}");
  private static final String NOT_PLAIN_START = "&*!|>{}%@`?,'\"";

  private record Line(int no, int indent, String text) {}

  private final List<Line> lines = new ArrayList<>();
  private int pos;
  private int nodes;

  private WorkflowYaml() {}

  /**
   * The document's root mapping: nested {@code Map<String,Object>} (insertion-ordered), {@code
   * List<Object>} and {@code String}.
   *
   * @throws WorkflowFormatException when the text is not of the subset or over a bound
   */
  public static Map<String, Object> parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_CHARS) {
      throw new WorkflowFormatException(
          Problem.SIZE, 0, "a workflow must be 1 to " + MAX_CHARS + " characters");
    }
    WorkflowYaml p = new WorkflowYaml();
    p.split(text);
    if (p.lines.isEmpty()) {
      throw new WorkflowFormatException(Problem.MALFORMED, 0, "the workflow is empty");
    }
    if (p.lines.get(0).indent() != 0 || isItem(p.lines.get(0).text())) {
      throw new WorkflowFormatException(
          Problem.MALFORMED, p.lines.get(0).no(), "the document must be a mapping at column 0");
    }
    Map<String, Object> root = p.mapping(0, 1);
    if (p.pos < p.lines.size()) {
      throw new WorkflowFormatException(
          Problem.MALFORMED, p.lines.get(p.pos).no(), "unexpected indentation");
    }
    return root;
  }

  /** Lines without comments or blank lines; refuses characters and markers outside the subset. */
  private void split(String text) {
    int no = 0;
    int start = 0;
    while (start <= text.length()) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = text.length();
      }
      no++;
      if (no > MAX_LINES) {
        throw new WorkflowFormatException(
            Problem.SIZE, no, "a workflow has at most " + MAX_LINES + " lines");
      }
      String raw = text.substring(start, end);
      if (raw.endsWith("\r")) {
        raw = raw.substring(0, raw.length() - 1);
      }
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c < 0x20 || c == 0x7f || c == '\uFEFF') {
          throw new WorkflowFormatException(
              Problem.MALFORMED, no, "tabs and control characters are not allowed");
        }
      }
      String content = stripComment(raw, no).stripTrailing();
      int indent = 0;
      while (indent < content.length() && content.charAt(indent) == ' ') {
        indent++;
      }
      String body = content.substring(indent);
      if (!body.isEmpty()) {
        if (indent == 0
            && (body.startsWith("---") || body.startsWith("...") || body.startsWith("%"))) {
          throw new WorkflowFormatException(
              Problem.UNSUPPORTED, no, "one document only: no directives or document markers");
        }
        lines.add(new Line(no, indent, body));
      }
      start = end + 1;
    }
  }

  /** The line without its comment: a {@code #} outside quotes, at the start or after a space. */
  private static String stripComment(String raw, int no) {
    char quote = 0;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        if (i == 0 || " [,:-".indexOf(raw.charAt(i - 1)) >= 0) {
          quote = c;
        }
      } else if (c == '#' && (i == 0 || raw.charAt(i - 1) == ' ')) {
        return raw.substring(0, i);
      }
    }
    return raw;
  }

  private static boolean isItem(String text) {
    return text.equals("-") || text.startsWith("- ");
  }

  private void count(int no) {
    if (++nodes > MAX_NODES) {
      throw new WorkflowFormatException(
          Problem.SIZE, no, "a workflow has at most " + MAX_NODES + " values");
    }
  }

  private static void depth(int depth, int no) {
    if (depth > MAX_DEPTH) {
      throw new WorkflowFormatException(
          Problem.DEPTH, no, "a workflow nests at most " + MAX_DEPTH + " levels");
    }
  }

  /** A block mapping whose keys are at column {@code indent}. */
  private Map<String, Object> mapping(int indent, int depth) {
    depth(depth, lines.get(pos).no());
    Map<String, Object> out = new LinkedHashMap<>();
    while (pos < lines.size() && lines.get(pos).indent() == indent) {
      Line line = lines.get(pos);
      if (isItem(line.text())) {
        throw new WorkflowFormatException(Problem.MALFORMED, line.no(), "a list item in a mapping");
      }
      int colon = keyEnd(line.text());
      if (colon < 0) {
        throw new WorkflowFormatException(
            Problem.MALFORMED, line.no(), "expected 'key: value' with a plain key");
      }
      String key = line.text().substring(0, colon);
      if (out.containsKey(key)) {
        throw new WorkflowFormatException(
            Problem.DUPLICATE_KEY, line.no(), "the key '" + key + "' appears twice");
      }
      count(line.no());
      String rest = line.text().substring(colon + 1).strip();
      pos++;
      out.put(
          key, rest.isEmpty() ? nested(indent, depth, line.no()) : scalarOrFlow(rest, line.no()));
    }
    return out;
  }

  /**
   * The block under a {@code key:} at column {@code indent}: deeper, or a list at the same column.
   */
  private Object nested(int indent, int depth, int no) {
    if (pos < lines.size()) {
      Line next = lines.get(pos);
      if (next.indent() > indent) {
        return isItem(next.text())
            ? sequence(next.indent(), depth + 1)
            : mapping(next.indent(), depth + 1);
      }
      if (next.indent() == indent && isItem(next.text())) {
        return sequence(indent, depth + 1);
      }
    }
    throw new WorkflowFormatException(Problem.MALFORMED, no, "a key without a value");
  }

  /** A block sequence whose dashes are at column {@code indent}. */
  private List<Object> sequence(int indent, int depth) {
    depth(depth, lines.get(pos).no());
    List<Object> out = new ArrayList<>();
    while (pos < lines.size()
        && lines.get(pos).indent() == indent
        && isItem(lines.get(pos).text())) {
      Line line = lines.get(pos);
      count(line.no());
      String rest = line.text().substring(1).stripLeading();
      if (rest.isEmpty()) {
        pos++;
        if (pos >= lines.size() || lines.get(pos).indent() <= indent) {
          throw new WorkflowFormatException(Problem.MALFORMED, line.no(), "an empty list item");
        }
        Line next = lines.get(pos);
        out.add(
            isItem(next.text())
                ? sequence(next.indent(), depth + 1)
                : mapping(next.indent(), depth + 1));
      } else if (keyEnd(rest) >= 0) {
        // "- key: value" opens a mapping whose keys are at the column of "key"
        int column = indent + line.text().length() - rest.length();
        lines.set(pos, new Line(line.no(), column, rest));
        out.add(mapping(column, depth + 1));
      } else if (isItem(rest)) {
        throw new WorkflowFormatException(
            Problem.UNSUPPORTED, line.no(), "write a nested list on its own lines");
      } else {
        pos++;
        out.add(scalarOrFlow(rest, line.no()));
      }
    }
    return out;
  }

  /**
   * Where the key of {@code text} ends (its colon), or -1 when {@code text} is not {@code key:} or
   * {@code key: value} with a plain key.
   */
  private static int keyEnd(String text) {
    int colon = text.indexOf(':');
    if (colon <= 0 || (colon + 1 < text.length() && text.charAt(colon + 1) != ' ')) {
      return -1;
    }
    return KEY.matcher(text.substring(0, colon)).matches() ? colon : -1;
  }

  private Object scalarOrFlow(String text, int no) {
    if (text.startsWith("[")) {
      return flow(text, no);
    }
    return scalar(text, no);
  }

  /** {@code [a, "b c", 'd']}: scalars only, on one line. */
  private List<Object> flow(String text, int no) {
    if (!text.endsWith("]")) {
      throw new WorkflowFormatException(Problem.MALFORMED, no, "a flow list must end on its line");
    }
    List<Object> out = new ArrayList<>();
    String inner = text.substring(1, text.length() - 1).strip();
    int i = 0;
    while (i < inner.length()) {
      int end = itemEnd(inner, i, no);
      String item = inner.substring(i, end).strip();
      if (item.isEmpty() || item.startsWith("[")) {
        throw new WorkflowFormatException(
            Problem.MALFORMED, no, "a flow list holds non-empty scalars only");
      }
      count(no);
      out.add(scalar(item, no));
      i = end + 1;
      if (end < inner.length() && i >= inner.length()) {
        throw new WorkflowFormatException(Problem.MALFORMED, no, "a trailing comma");
      }
    }
    return out;
  }

  private static int itemEnd(String s, int from, int no) {
    int i = from;
    while (i < s.length() && s.charAt(i) == ' ') {
      i++;
    }
    if (i < s.length() && (s.charAt(i) == '"' || s.charAt(i) == '\'')) {
      i = closingQuote(s, i, no) + 1;
    }
    int comma = s.indexOf(',', i);
    return comma < 0 ? s.length() : comma;
  }

  private static int closingQuote(String s, int open, int no) {
    char q = s.charAt(open);
    for (int i = open + 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (q == '"' && c == '\\') {
        i++;
      } else if (c == q) {
        if (q == '\'' && i + 1 < s.length() && s.charAt(i + 1) == '\'') {
          i++;
        } else {
          return i;
        }
      }
    }
    throw new WorkflowFormatException(Problem.MALFORMED, no, "an unterminated quoted string");
  }

  private static String scalar(String text, int no) {
    char first = text.charAt(0);
    if (first == '"' || first == '\'') {
      int close = closingQuote(text, 0, no);
      if (close != text.length() - 1) {
        throw new WorkflowFormatException(Problem.MALFORMED, no, "text after a quoted string");
      }
      String inner = text.substring(1, close);
      return first == '\'' ? inner.replace("''", "'") : unescape(inner, no);
    }
    if (NOT_PLAIN_START.indexOf(first) >= 0 || first == '[' || first == ']' || isItem(text)) {
      throw new WorkflowFormatException(
          Problem.UNSUPPORTED,
          no,
          "anchors, aliases, tags, flow mappings and block scalars are not supported: quote the"
              + " value");
    }
    if (text.contains(": ") || text.endsWith(":") || text.contains(" #")) {
      throw new WorkflowFormatException(
          Problem.MALFORMED, no, "an ambiguous plain value: quote it");
    }
    return text;
  }

  private static String unescape(String s, int no) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (++i >= s.length()) {
        throw new WorkflowFormatException(Problem.MALFORMED, no, "a dangling escape");
      }
      char e = s.charAt(i);
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'u' -> {
          try {
            b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          } catch (NumberFormatException | IndexOutOfBoundsException x) {
            throw new WorkflowFormatException(Problem.MALFORMED, no, "a bad \\u escape");
          }
          i += 4;
        }
        default ->
            throw new WorkflowFormatException(
                Problem.MALFORMED, no, "only \\\" \\\\ \\/ \\n \\t \\uXXXX escapes are supported");
      }
    }
    return b.toString();
  }
}
