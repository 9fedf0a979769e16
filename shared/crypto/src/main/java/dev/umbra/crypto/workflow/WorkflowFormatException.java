package dev.umbra.crypto.workflow;

import dev.umbra.crypto.MalformedInputException;

/**
 * A workflow definition that is not of the format (docs/agents.md, "Workflows"): {@link #problem()}
 * says why, {@link #line()} where (0 when not tied to a line). The message names keys and lines,
 * never a value.
 */
public final class WorkflowFormatException extends MalformedInputException {
  /** Why a definition is refused (docs/agents.md, "Definition format"). */
  public enum Problem {
    /** over a size bound (characters, lines, values, steps, argv...) */
    SIZE,
    /** nested deeper than the parser allows */
    DEPTH,
    /** not of the YAML subset: bad indentation, unterminated quote, empty value... */
    MALFORMED,
    /** YAML the subset leaves out: anchors, aliases, tags, block scalars, several documents */
    UNSUPPORTED,
    /** a key given twice in one mapping */
    DUPLICATE_KEY,
    /** a key the schema does not know */
    UNKNOWN_KEY,
    /** a key the schema requires is absent */
    MISSING_KEY,
    /** a value of the wrong shape or out of its bounds */
    INVALID_VALUE
  }

  private final Problem problem;
  private final int line;

  public WorkflowFormatException(Problem problem, int line, String message) {
    super(line > 0 ? "line " + line + ": " + message : message);
    this.problem = problem;
    this.line = line;
  }

  public Problem problem() {
    return problem;
  }

  public int line() {
    return line;
  }
}
