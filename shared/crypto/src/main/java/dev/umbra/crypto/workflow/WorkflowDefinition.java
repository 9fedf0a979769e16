package dev.umbra.crypto.workflow;

import dev.umbra.crypto.workflow.WorkflowFormatException.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed workflow definition (docs/agents.md, "Definition format"): its name, inputs and steps,
 * each step a command (argv, no shell) or an agent session (a runtime configured on the machine,
 * with an optional first prompt) on a named machine with an optional condition. {@link #parse}
 * reads the YAML subset of {@link WorkflowYaml} and refuses unknown keys, missing ones and values
 * out of bounds; {@link #fields()} is the canonical form that is signed ({@link WorkflowDocument}),
 * with every default written out, so two texts that mean the same sign the same.
 */
public record WorkflowDefinition(
    String name, String description, List<Input> inputs, List<Step> steps) {
  public static final int MAX_STEPS = 50;
  public static final int MAX_INPUTS = 32;
  public static final int MAX_ARGS = 64;
  public static final int MAX_ARG = 4096;
  public static final int MAX_VALUE = 1024;

  /** The longest first prompt of an agent step. */
  public static final int MAX_PROMPT = 4096;

  /** Agent runtime ids, as the daemon's {@code agent-runtimes.json} names them. */
  public static final Pattern RUNTIME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

  public static final long MAX_TIMEOUT_SECONDS = 86_400;

  /** Workflow names: also what a repository file is called ({@code <name>.yaml}). */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  private static final Pattern ID = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\{inputs\\.([a-z][a-z0-9_-]{0,31})}");
  private static final Pattern COMPARISON =
      Pattern.compile("inputs\\.([a-z][a-z0-9_-]{0,31}) (==|!=) '([^']{0,1024})'");

  /** An input a run may give ({@code --input name=value}). */
  public record Input(
      String name, String description, String defaultValue, boolean required, List<String> values) {
    public Input {
      values = List.copyOf(values);
    }
  }

  /** When a step runs, given the inputs and whether an earlier step failed. */
  public record Condition(String op, String input, String value) {
    public static final Condition SUCCESS = new Condition("success", null, null);

    public boolean holds(Map<String, String> inputs, boolean failedBefore) {
      return switch (op) {
        case "always" -> true;
        case "failure" -> failedBefore;
        case "success" -> !failedBefore;
        case "eq" -> !failedBefore && value.equals(inputs.get(input));
        case "ne" -> !failedBefore && !value.equals(inputs.get(input));
        default -> false;
      };
    }

    Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("op", op);
      if (input != null) {
        m.put("input", input);
        m.put("value", value);
      }
      return m;
    }
  }

  /**
   * One step on the machine named {@code machine}, when {@code when} holds: the command {@code
   * run}, or — when {@code agent} is set ({@code run} then empty) — an agent session of that
   * runtime, given {@code prompt} (or nothing) as its first prompt.
   */
  public record Step(
      String id,
      String machine,
      List<String> run,
      String agent,
      String prompt,
      String cwd,
      Condition when,
      long timeoutSeconds,
      boolean continueOnFailure) {
    public Step {
      run = List.copyOf(run);
    }

    /** Whether this step starts an agent session rather than a command. */
    public boolean isAgent() {
      return agent != null;
    }

    /** The first prompt with inputs replaced; empty for none. */
    public String prompt(Map<String, String> inputs) {
      return prompt == null ? "" : substitute(prompt, inputs);
    }

    /** The argv with every {@code ${inputs.name}} replaced (never through a shell). */
    public List<String> argv(Map<String, String> inputs) {
      return run.stream().map(a -> substitute(a, inputs)).toList();
    }

    /** The working directory with inputs replaced; empty for the daemon's default. */
    public String cwd(Map<String, String> inputs) {
      return cwd == null ? "" : substitute(cwd, inputs);
    }
  }

  public WorkflowDefinition {
    inputs = List.copyOf(inputs);
    steps = List.copyOf(steps);
  }

  /** Parses and checks a definition's text. */
  public static WorkflowDefinition parse(String yaml) {
    Map<String, Object> root = WorkflowYaml.parse(yaml);
    keys(root, "workflow", Set.of("name", "steps"), Set.of("description", "inputs"));
    String name = string(root.get("name"), "name", 64);
    if (!NAME.matcher(name).matches()) {
      throw invalid("name must be lower-case letters, digits, '.', '_' or '-' (at most 64)");
    }
    String description = optional(root.get("description"), "description", MAX_VALUE);
    List<Input> inputs = new ArrayList<>();
    if (root.containsKey("inputs")) {
      if (!(root.get("inputs") instanceof Map<?, ?> m) || m.size() > MAX_INPUTS) {
        throw invalid("inputs must be a mapping of at most " + MAX_INPUTS + " inputs");
      }
      for (Map.Entry<?, ?> e : m.entrySet()) {
        inputs.add(input((String) e.getKey(), e.getValue()));
      }
    }
    Set<String> declared = new java.util.HashSet<>();
    inputs.forEach(i -> declared.add(i.name()));
    if (!(root.get("steps") instanceof List<?> list) || list.isEmpty() || list.size() > MAX_STEPS) {
      throw new WorkflowFormatException(
          list(root.get("steps")) ? Problem.SIZE : Problem.INVALID_VALUE,
          0,
          "steps must be a list of 1 to " + MAX_STEPS + " steps");
    }
    List<Step> steps = new ArrayList<>();
    Set<String> ids = new java.util.HashSet<>();
    for (Object o : list) {
      Step s = step(o, declared);
      if (!ids.add(s.id())) {
        throw invalid("two steps have the id '" + s.id() + "'");
      }
      steps.add(s);
    }
    return new WorkflowDefinition(name, description, inputs, steps);
  }

  private static boolean list(Object o) {
    return o instanceof List<?> l && l.size() > MAX_STEPS;
  }

  private static Input input(String name, Object o) {
    if (!ID.matcher(name).matches()) {
      throw invalid("an input name must match [a-z][a-z0-9_-]{0,31}");
    }
    if (!(o instanceof Map<?, ?> m)) {
      throw invalid("input '" + name + "' must be a mapping");
    }
    keys(
        m,
        "input '" + name + "'",
        Set.of(),
        Set.of("description", "default", "required", "values"));
    List<String> values = new ArrayList<>();
    if (m.containsKey("values")) {
      if (!(m.get("values") instanceof List<?> l) || l.isEmpty() || l.size() > 50) {
        throw invalid("values of input '" + name + "' must be a list of 1 to 50 values");
      }
      for (Object v : l) {
        values.add(string(v, "a value of input '" + name + "'", MAX_VALUE));
      }
    }
    String dflt = optional(m.get("default"), "default", MAX_VALUE);
    if (dflt != null && !values.isEmpty() && !values.contains(dflt)) {
      throw invalid("the default of input '" + name + "' is not one of its values");
    }
    return new Input(
        name,
        optional(m.get("description"), "description", MAX_VALUE),
        dflt,
        bool(m.get("required"), "required"),
        values);
  }

  private static Step step(Object o, Set<String> declared) {
    if (!(o instanceof Map<?, ?> m)) {
      throw invalid("a step must be a mapping");
    }
    boolean agent = m.containsKey("agent");
    keys(
        m,
        "step",
        agent ? Set.of("id", "machine", "agent") : Set.of("id", "machine", "run"),
        agent
            ? Set.of("prompt", "if", "timeout_seconds", "continue_on_failure")
            : Set.of("cwd", "if", "timeout_seconds", "continue_on_failure"));
    String id = string(m.get("id"), "id", 32);
    if (!ID.matcher(id).matches()) {
      throw invalid("a step id must match [a-z][a-z0-9_-]{0,31}");
    }
    String machine = string(m.get("machine"), "machine", 64);
    List<String> run = new ArrayList<>();
    String runtime = null;
    String prompt = null;
    if (agent) {
      runtime = string(m.get("agent"), "agent of step '" + id + "'", 32);
      if (!RUNTIME.matcher(runtime).matches()) {
        throw invalid("agent of step '" + id + "' must be a runtime id [a-z0-9][a-z0-9_-]{0,31}");
      }
      prompt = optional(m.get("prompt"), "prompt of step '" + id + "'", MAX_PROMPT);
      if (prompt != null) {
        references(prompt, declared);
      }
    } else {
      if (!(m.get("run") instanceof List<?> l) || l.isEmpty() || l.size() > MAX_ARGS) {
        throw invalid("run of step '" + id + "' must be a list of 1 to " + MAX_ARGS + " arguments");
      }
      for (Object a : l) {
        run.add(references(string(a, "an argument of step '" + id + "'", MAX_ARG), declared));
      }
    }
    String cwd = optional(m.get("cwd"), "cwd", MAX_VALUE);
    if (cwd != null) {
      references(cwd, declared);
    }
    long timeout = 0;
    if (m.containsKey("timeout_seconds")) {
      String t = string(m.get("timeout_seconds"), "timeout_seconds", 6);
      if (!t.matches("[1-9][0-9]{0,5}") || Long.parseLong(t) > MAX_TIMEOUT_SECONDS) {
        throw invalid("timeout_seconds must be 1 to " + MAX_TIMEOUT_SECONDS);
      }
      timeout = Long.parseLong(t);
    }
    Condition when =
        m.containsKey("if")
            ? condition(string(m.get("if"), "if", 1100), declared)
            : Condition.SUCCESS;
    return new Step(
        id,
        machine,
        run,
        runtime,
        prompt,
        cwd,
        when,
        timeout,
        bool(m.get("continue_on_failure"), "continue_on_failure"));
  }

  private static Condition condition(String text, Set<String> declared) {
    switch (text) {
      case "success()":
        return Condition.SUCCESS;
      case "failure()":
        return new Condition("failure", null, null);
      case "always()":
        return new Condition("always", null, null);
      default:
        break;
    }
    Matcher c = COMPARISON.matcher(text);
    if (!c.matches()) {
      throw invalid(
          "if must be success(), failure(), always() or inputs.<name> == '<value>' (or !=)");
    }
    if (!declared.contains(c.group(1))) {
      throw invalid("if names an input that is not declared");
    }
    return new Condition(c.group(2).equals("==") ? "eq" : "ne", c.group(1), c.group(3));
  }

  /** Checks every {@code ${inputs.x}} names a declared input; returns {@code s}. */
  private static String references(String s, Set<String> declared) {
    Matcher r = REFERENCE.matcher(s);
    while (r.find()) {
      if (!declared.contains(r.group(1))) {
        throw invalid("an argument names an input that is not declared");
      }
    }
    if (s.replaceAll(REFERENCE.pattern(), "").contains("${")) {
      throw invalid("'${' only as ${inputs.<name>}");
    }
    return s;
  }

  private static String substitute(String s, Map<String, String> inputs) {
    return REFERENCE
        .matcher(s)
        .replaceAll(r -> Matcher.quoteReplacement(inputs.getOrDefault(r.group(1), "")));
  }

  /**
   * The inputs of a run: {@code given} checked against the declarations (no undeclared input, every
   * required one given, a value among {@code values} when listed), defaults filled in.
   *
   * @throws IllegalArgumentException naming the input, never its value
   */
  public Map<String, String> resolve(Map<String, String> given) {
    Map<String, String> out = new TreeMap<>();
    Set<String> names = new java.util.HashSet<>();
    for (Input i : inputs) {
      names.add(i.name());
      String v = given.get(i.name());
      if (v == null) {
        v = i.defaultValue();
      }
      if (v == null && i.required()) {
        throw new IllegalArgumentException("input '" + i.name() + "' is required");
      }
      if (v != null && (v.length() > MAX_VALUE || v.indexOf('\0') >= 0)) {
        throw new IllegalArgumentException("input '" + i.name() + "' is too long or has NUL");
      }
      if (v != null && !i.values().isEmpty() && !i.values().contains(v)) {
        throw new IllegalArgumentException("input '" + i.name() + "' is not one of its values");
      }
      out.put(i.name(), v == null ? "" : v);
    }
    for (String k : given.keySet()) {
      if (!names.contains(k)) {
        throw new IllegalArgumentException("the workflow declares no input '" + bounded(k) + "'");
      }
    }
    return out;
  }

  private static String bounded(String s) {
    return s.length() > 32 ? s.substring(0, 32) + "..." : s;
  }

  /** The canonical form (what is signed): every default written out. */
  public Map<String, Object> fields() {
    Map<String, Object> m = new TreeMap<>();
    m.put("name", name);
    if (description != null) {
      m.put("description", description);
    }
    Map<String, Object> in = new TreeMap<>();
    for (Input i : inputs) {
      Map<String, Object> f = new TreeMap<>();
      if (i.description() != null) {
        f.put("description", i.description());
      }
      if (i.defaultValue() != null) {
        f.put("default", i.defaultValue());
      }
      f.put("required", i.required());
      f.put("values", new ArrayList<Object>(i.values()));
      in.put(i.name(), f);
    }
    m.put("inputs", in);
    List<Object> st = new ArrayList<>();
    for (Step s : steps) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("id", s.id());
      f.put("machine", s.machine());
      if (s.isAgent()) {
        // an agent step's own keys; a command step's canonical form is as it always was
        f.put("agent", s.agent());
        if (s.prompt() != null) {
          f.put("prompt", s.prompt());
        }
      } else {
        f.put("run", new ArrayList<Object>(s.run()));
      }
      if (s.cwd() != null) {
        f.put("cwd", s.cwd());
      }
      f.put("if", s.when().fields());
      f.put("timeout_seconds", s.timeoutSeconds());
      f.put("continue_on_failure", s.continueOnFailure());
      st.add(f);
    }
    m.put("steps", st);
    return m;
  }

  private static void keys(Map<?, ?> m, String what, Set<String> required, Set<String> optional) {
    for (Object k : m.keySet()) {
      if (!required.contains(k) && !optional.contains(k)) {
        throw new WorkflowFormatException(
            Problem.UNKNOWN_KEY, 0, what + " has an unknown key '" + bounded((String) k) + "'");
      }
    }
    for (String k : required) {
      if (!m.containsKey(k)) {
        throw new WorkflowFormatException(Problem.MISSING_KEY, 0, what + " needs '" + k + "'");
      }
    }
  }

  private static String string(Object o, String what, int max) {
    if (!(o instanceof String s) || s.isEmpty() || s.length() > max) {
      throw invalid(what + " must be a text of 1 to " + max + " characters");
    }
    return s;
  }

  private static String optional(Object o, String what, int max) {
    return o == null ? null : string(o, what, max);
  }

  private static boolean bool(Object o, String what) {
    if (o == null) {
      return false;
    }
    if ("true".equals(o) || "false".equals(o)) {
      return "true".equals(o);
    }
    throw invalid(what + " must be true or false");
  }

  private static WorkflowFormatException invalid(String message) {
    return new WorkflowFormatException(Problem.INVALID_VALUE, 0, message);
  }
}
