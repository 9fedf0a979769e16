package dev.umbra.crypto.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.workflow.WorkflowFormatException.Problem;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The workflow definition format (docs/agents.md, "Definition format") and its signed form. */
class WorkflowDefinitionTest {
  private static Problem problem(String yaml) {
    try {
      WorkflowDefinition.parse(yaml);
    } catch (WorkflowFormatException e) {
      return e.problem();
    }
    throw new AssertionError("accepted: " + yaml);
  }

  @Test
  void aDefinitionParsesToItsStepsInputsAndConditions() {
    WorkflowDefinition d = WorkflowDefinition.parse(WorkflowVectors.DEPLOY);
    assertThat(d.name()).isEqualTo("deploy-web");
    assertThat(d.steps())
        .extracting(WorkflowDefinition.Step::id)
        .containsExactly("build", "deploy", "notify");
    WorkflowDefinition.Step deploy = d.steps().get(1);
    assertThat(deploy.timeoutSeconds()).isEqualTo(600);
    Map<String, String> prod = d.resolve(Map.of("env", "prod"));
    assertThat(deploy.argv(prod)).containsExactly("./deploy.sh", "--env=prod");
    assertThat(deploy.when().holds(prod, false)).isTrue();
    assertThat(deploy.when().holds(d.resolve(Map.of()), false)).as("default staging").isFalse();
    assertThat(d.steps().get(2).run()).containsExactly("echo", "done: it's over");
    assertThat(d.steps().get(2).when().holds(prod, true)).as("always()").isTrue();
  }

  static final String AGENT =
      "name: review\ninputs:\n  pr:\n    default: '1'\nsteps:\n  - id: look\n    machine: m\n"
          + "    agent: claude\n    prompt: Review PR ${inputs.pr}\n    timeout_seconds: 60\n"
          + "  - id: after\n    machine: m\n    run: [echo, done]\n";

  @Test
  void anAgentStepNamesARuntimeAndAFirstPromptAndSignsItsOwnKeys() {
    WorkflowDefinition d = WorkflowDefinition.parse(AGENT);
    WorkflowDefinition.Step look = d.steps().get(0);
    assertThat(look.isAgent()).isTrue();
    assertThat(look.agent()).isEqualTo("claude");
    assertThat(look.run()).isEmpty();
    assertThat(look.prompt(d.resolve(Map.of("pr", "42")))).isEqualTo("Review PR 42");
    assertThat(d.steps().get(1).isAgent()).isFalse();
    @SuppressWarnings("unchecked")
    Map<String, Object> canonical =
        (Map<String, Object>) ((List<?>) d.fields().get("steps")).get(0);
    assertThat(canonical)
        .containsEntry("agent", "claude")
        .containsEntry("prompt", "Review PR ${inputs.pr}")
        .doesNotContainKey("run");
    // a different runtime or prompt is a different signed definition
    assertThat(WorkflowDefinition.parse(AGENT.replace("claude", "bot")).fields())
        .isNotEqualTo(d.fields());
    assertThat(WorkflowDefinition.parse(AGENT.replace("Review", "Merge")).fields())
        .isNotEqualTo(d.fields());
  }

  @Test
  void anAgentStepIsRefusedWithARunACwdABadRuntimeAnUndeclaredInputOrALongPrompt() {
    String base = "name: r\nsteps:\n  - id: a\n    machine: m\n    agent: bot\n";
    assertThat(problem(base + "    run: [echo]\n")).isEqualTo(Problem.UNKNOWN_KEY);
    assertThat(problem(base + "    cwd: /tmp\n")).isEqualTo(Problem.UNKNOWN_KEY);
    assertThat(problem(base.replace("bot", "Bad Runtime"))).isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem(base + "    prompt: hi ${inputs.nope}\n")).isEqualTo(Problem.INVALID_VALUE);
    assertThat(
            problem(base + "    prompt: " + "x".repeat(WorkflowDefinition.MAX_PROMPT + 1) + "\n"))
        .isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: r\nsteps:\n  - id: a\n    machine: m\n"))
        .isEqualTo(Problem.MISSING_KEY);
  }

  @Test
  void inputsAreCheckedAgainstTheirDeclarations() {
    WorkflowDefinition d = WorkflowDefinition.parse(WorkflowVectors.DEPLOY);
    assertThatThrownBy(() -> d.resolve(Map.of("env", "qa"))).hasMessageContaining("not one of");
    assertThatThrownBy(() -> d.resolve(Map.of("other", "x"))).hasMessageContaining("declares no");
    String required =
        "name: r\ninputs:\n  who:\n    required: true\nsteps:\n  - id: a\n    machine: m\n    run: [echo, \"${inputs.who}\"]\n";
    assertThatThrownBy(() -> WorkflowDefinition.parse(required).resolve(Map.of()))
        .hasMessageContaining("required");
    assertThat(WorkflowDefinition.parse(required).steps().get(0).argv(Map.of("who", "$(id); x")))
        .as("an input is one argument, never shell text")
        .containsExactly("echo", "$(id); x");
  }

  @Test
  void reformattingAndCommentsDoNotChangeTheCanonicalForm() {
    assertThat(WorkflowDefinition.parse(WorkflowVectors.DEPLOY_REFORMATTED).fields())
        .isEqualTo(WorkflowDefinition.parse(WorkflowVectors.DEPLOY).fields());
  }

  @Test
  void everyTruncationOfADefinitionIsRefusedOrParsesToLess() {
    String full = WorkflowVectors.DEPLOY.stripTrailing();
    int accepted = 0;
    for (int n = 0; n < full.length(); n++) {
      String cut = full.substring(0, n);
      try {
        WorkflowDefinition d = WorkflowDefinition.parse(cut);
        accepted++;
        assertThat(d.fields()).isNotEqualTo(WorkflowDefinition.parse(full).fields());
      } catch (WorkflowFormatException e) {
        assertThat(e.problem()).isNotNull();
      }
    }
    // only cuts inside the last step's trailing text can still be a definition, never the same one
    assertThat(accepted).isLessThan(full.length() / 4);
  }

  @Test
  void oversizedDefinitionsAreRefusedBeforeParsing() {
    assertThat(problem("")).isEqualTo(Problem.SIZE);
    assertThat(problem("name: x\n" + "#".repeat(WorkflowYaml.MAX_CHARS))).isEqualTo(Problem.SIZE);
    assertThat(problem("name: x\n" + "\n".repeat(WorkflowYaml.MAX_LINES))).isEqualTo(Problem.SIZE);
    StringBuilder steps = new StringBuilder("name: many\nsteps:\n");
    for (int i = 0; i <= WorkflowDefinition.MAX_STEPS; i++) {
      steps.append("  - id: s").append(i).append("\n    machine: m\n    run: [true]\n");
    }
    assertThat(problem(steps.toString())).isEqualTo(Problem.SIZE);
    StringBuilder deep = new StringBuilder("name: deep\nsteps:\n");
    String indent = "  ";
    for (int i = 0; i < 8; i++) {
      deep.append(indent).append("k").append(i).append(":\n");
      indent += "  ";
    }
    deep.append(indent).append("v: 1\n");
    assertThat(problem(deep.toString())).isEqualTo(Problem.DEPTH);
    StringBuilder wide = new StringBuilder("name: wide\nsteps: [");
    for (int i = 0; i < WorkflowYaml.MAX_NODES; i++) {
      wide.append("a,");
    }
    assertThat(problem(wide.append("a]\n").toString())).isEqualTo(Problem.SIZE);
  }

  @Test
  void malformedAndUnsupportedYamlIsRefused() {
    String step = "steps:\n  - id: a\n    machine: m\n    run: [true]\n";
    assertThat(problem("name: \"open\n" + step)).isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: x\n\tsteps: []\n")).isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: x\n" + step + "   stray: 1\n")).isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: &a x\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("name: *a\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("name: !!str x\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("name: |\n  x\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("name: {a: b}\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("---\nname: x\n" + step)).isEqualTo(Problem.UNSUPPORTED);
    assertThat(problem("name: x\n" + step + "name: y\n")).isEqualTo(Problem.DUPLICATE_KEY);
    assertThat(problem("name: x\nsteps:\n")).isEqualTo(Problem.MALFORMED);
    assertThat(problem("- name: x\n")).isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: x\nsteps: [a, ]\n")).isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: x\n" + step.replace("[true]", "[\"\\q\"]")))
        .isEqualTo(Problem.MALFORMED);
    assertThat(problem("name: x\0\n" + step)).isEqualTo(Problem.MALFORMED);
  }

  @Test
  void unknownAndMissingKeysAndBadValuesAreRefused() {
    String step = "steps:\n  - id: a\n    machine: m\n    run: [true]\n";
    assertThat(problem("name: x\nshell: bash\n" + step)).isEqualTo(Problem.UNKNOWN_KEY);
    assertThat(problem("name: x\n" + step + "    env: [A=1]\n")).isEqualTo(Problem.UNKNOWN_KEY);
    assertThat(problem("name: x\ninputs:\n  a:\n    secret: true\n" + step))
        .isEqualTo(Problem.UNKNOWN_KEY);
    assertThat(problem(step)).isEqualTo(Problem.MISSING_KEY);
    assertThat(problem("name: x\nsteps:\n  - id: a\n    machine: m\n"))
        .isEqualTo(Problem.MISSING_KEY);
    assertThat(problem("name: X!\n" + step)).isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step + "    if: inputs.a == 'b'\n"))
        .as("undeclared input")
        .isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step + "    if: rm -rf /\n")).isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step.replace("[true]", "[\"${inputs.nope}\"]")))
        .isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step + "    timeout_seconds: 0\n"))
        .isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step + "    continue_on_failure: yes\n"))
        .isEqualTo(Problem.INVALID_VALUE);
    assertThat(problem("name: x\n" + step + "  - id: a\n    machine: m\n    run: [true]\n"))
        .as("repeated id")
        .isEqualTo(Problem.INVALID_VALUE);
  }

  @Test
  void aSignatureCoversTheWorkspaceNameVersionSignerAndEveryStep() {
    Ed25519PrivateKey key = Ed25519PrivateKey.generate();
    UUID ws = UUID.randomUUID();
    UUID device = UUID.randomUUID();
    WorkflowDefinition d = WorkflowDefinition.parse(WorkflowVectors.DEPLOY);
    byte[] sig = WorkflowDocument.sign(ws, 2, device, d, key);
    assertThat(WorkflowDocument.verifies(ws, 2, device, d, sig, key.publicKey())).isTrue();
    // an old version's signature replayed as a newer version, or elsewhere, does not verify
    assertThat(WorkflowDocument.verifies(ws, 3, device, d, sig, key.publicKey())).isFalse();
    assertThat(WorkflowDocument.verifies(UUID.randomUUID(), 2, device, d, sig, key.publicKey()))
        .isFalse();
    assertThat(WorkflowDocument.verifies(ws, 2, UUID.randomUUID(), d, sig, key.publicKey()))
        .isFalse();
    WorkflowDefinition renamed =
        WorkflowDefinition.parse(WorkflowVectors.DEPLOY.replace("deploy-web", "other"));
    assertThat(WorkflowDocument.verifies(ws, 2, device, renamed, sig, key.publicKey())).isFalse();
    WorkflowDefinition altered =
        WorkflowDefinition.parse(WorkflowVectors.DEPLOY.replace("600", "601"));
    assertThat(WorkflowDocument.verifies(ws, 2, device, altered, sig, key.publicKey())).isFalse();
    assertThat(
            WorkflowDocument.verifies(
                ws, 2, device, d, sig, Ed25519PrivateKey.generate().publicKey()))
        .isFalse();
    assertThat(WorkflowDocument.payload(ws, 2, device, d))
        .startsWith("{\"definition\":{")
        .contains("\"type\":\"umbra-workflow/v1\"");
    assertThat(List.of(sig.length)).containsExactly(64);
  }
}
