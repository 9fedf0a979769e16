package dev.umbra.web;

import java.util.ArrayList;
import java.util.List;

/**
 * Workflow texts at the edges of the YAML subset and the schema (docs/agents.md, "Definition
 * format"), given to shared/crypto's parser and to the page's port of it: every outcome — the
 * rebuilt payload, or the refusal's problem — must be the same.
 */
final class WorkflowCorpus {
  private WorkflowCorpus() {}

  private static final String STEP = "  - id: s\n    machine: m\n    run: [a]\n";

  static List<String> texts() {
    List<String> t = new ArrayList<>();
    // accepted, each a different path through the parser and the schema
    t.add("name: a\nsteps:\n" + STEP);
    t.add("name: a\r\nsteps:\r\n  - id: s\r\n    machine: m\r\n    run: [a]\r\n");
    t.add(
        "name: a   # trailing comment\nsteps:\n- id: s\n  machine: m\n  run:\n  - 'it''s'\n  - \"q\\\"\\\\\\/\\n\\t\\u00e9\"\n");
    t.add(
        "name: a\nsteps:\n"
            + STEP
            + "    cwd: /srv/${inputs.x}\n    if: inputs.x != 'b c'\ninputs:\n  x:\n    required: true\n");
    t.add(
        "name: a\ndescription: d\ninputs:\n  x:\n    default: v\n    values: [v, w]\n    description: the x\nsteps:\n"
            + STEP
            + "    if: inputs.x == 'v'\n    timeout_seconds: 86400\n    continue_on_failure: true\n");
    t.add(
        "name: a\nsteps:\n  - id: r\n    machine: m\n    agent: bot\n    prompt: \"Review ${inputs.e}\"\n    if: always()\ninputs:\n  e:\n    default: prod\n");
    t.add("name: a\nsteps:\n  - id: r\n    machine: m\n    agent: bot\n    if: failure()\n");
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "['a # b', \"c#d\", e#f]"));
    t.add("name: a\nsteps:\n" + STEP.replace("machine: m", "machine: m\u2003"));
    t.add("name: a\nsteps:\n" + STEP.replace("machine: m", "machine: m\u00a0"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"\\u+0e9\", \"\\u-001\"]"));
    t.add("name: a.b_c-9\nsteps:\n" + STEP.replace("run: [a]", "run:\n      - x\n      - \"\""));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[ a ,b ]"));
    // refused, one per problem and more
    t.add("");
    t.add("name: " + "a".repeat(70_000) + "\nsteps:\n" + STEP);
    t.add("name: a\nsteps:\n" + "\n".repeat(2001) + STEP);
    t.add(
        "name: a\nsteps:\n"
            + STEP.repeat(1)
                .replace(
                    "id: s",
                    "id: s\n    x:\n      y:\n        z:\n          w:\n            v: 1"));
    t.add("name: a\n\tsteps:\n");
    t.add("\uFEFFname: a\nsteps:\n" + STEP);
    t.add("name: a\nsteps: &x\n");
    t.add("---\nname: a\n");
    t.add("name: a\nsteps:\n" + STEP + "    shell: bash\n");
    t.add("name: a\nname: b\nsteps:\n" + STEP);
    t.add("name: a\n");
    t.add("name: a\nsteps:\n  - id: s\n    run: [a]\n");
    t.add("name: A\nsteps:\n" + STEP);
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[a,]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"a\" b]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"a]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"\\x\"]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"\\u12\"]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[${inputs.nope}]"));
    t.add("name: a\nsteps:\n" + STEP.replace("[a]", "[\"${x}\"]"));
    t.add("name: a\nsteps:\n" + STEP + "    timeout_seconds: 0\n");
    t.add("name: a\nsteps:\n" + STEP + "    timeout_seconds: 86401\n");
    t.add("name: a\nsteps:\n" + STEP + "    if: inputs.x == 'v'\n");
    t.add("name: a\nsteps:\n" + STEP + "    continue_on_failure: yes\n");
    t.add("name: a\ninputs:\n  x:\n    default: z\n    values: [v]\nsteps:\n" + STEP);
    t.add("name: a\nsteps:\n" + STEP + STEP);
    t.add("name: a\nsteps:\n" + STEP.repeat(51).replaceAll("id: s", "id: s"));
    t.add("name: a\nsteps:\n  - id: r\n    machine: m\n    agent: bot\n    run: [a]\n");
    t.add("name: a\nsteps:\n  - - a\n");
    t.add("name: a\nsteps:\n  - a: b: c\n");
    t.add("name: a\nsteps: x: y\n");
    t.add("name: a\nsteps: |\n  x\n");
    t.add("name: a\nsteps: {a: b}\n");
    t.add("name: a\nsteps:\n  -\n  - x\n");
    return t;
  }
}
