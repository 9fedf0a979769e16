package dev.umbra.crypto.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.workflow.WorkflowRunReport.StepResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The control plane's parser of a daemon's workflow run report (docs/audit.md): the canonical text
 * of exactly its members, ids, codes and numbers only.
 */
class WorkflowRunReportTest {
  static final WorkflowRunReport REPORT =
      new WorkflowRunReport(
          "01JF" + "0".repeat(21) + "A",
          "01JF" + "0".repeat(21) + "B",
          "deploy-web",
          3,
          "1f2e",
          "failure",
          "step_failed",
          1200,
          List.of(
              new StepResult("build", "succeeded", 0, 900, 0, 4096),
              new StepResult("deploy", "failed", 2, 300, 0, 17),
              new StepResult("notify", "other_machine", -1, 0, 0, 0)));

  @Test
  void aReportReadsBackAsItWasSigned() {
    WorkflowRunReport back = WorkflowRunReport.parse(REPORT.canonical());
    assertThat(back).isEqualTo(REPORT);
    assertThat(back.bytesOut()).isEqualTo(4113);
  }

  @Test
  void everyTruncationIsRefused() {
    String text = REPORT.canonical();
    for (int n = 0; n < text.length(); n++) {
      String cut = text.substring(0, n);
      assertThatThrownBy(() -> WorkflowRunReport.parse(cut))
          .isInstanceOf(MalformedInputException.class);
    }
  }

  @Test
  void oversizedMalformedAndUnknownReportsAreRefused() {
    String text = REPORT.canonical();
    for (String bad :
        List.of(
            "{\"x\":\"" + "a".repeat(WorkflowRunReport.MAX_TEXT) + "\"}",
            " " + text,
            "[]",
            text.replace("\"channel\"", "\"command\""),
            text.replace("0B\"", "0b\""),
            text.replace("\"failed\"", "\"exploded\""),
            text.replace("\"exit_status\":2", "\"exit_status\":300"),
            text.replace("\"duration_ms\":1200", "\"duration_ms\":-1"),
            text.replace("\"reason\":\"step_failed\"", "\"reason\":\"Not A Code\""),
            text.replace("\"outcome\":\"failure\"", "\"outcome\":\"ok\""),
            text.replace("\"id\":\"deploy\"", "\"id\":\"deploy\",\"output\":\"secret\""))) {
      assertThatThrownBy(() -> WorkflowRunReport.parse(bad))
          .as(bad.length() > 80 ? bad.substring(0, 80) : bad)
          .isInstanceOf(MalformedInputException.class);
    }
  }
}
