package dev.umbra.crypto.workflow;

import java.util.Optional;
import java.util.stream.Stream;

/**
 * Why a daemon refuses a workflow definition, to run it or to write it to a repository file
 * (docs/agents.md, "Workflow runs"); {@link #code()} is the reason a refusal report and its audit
 * event carry. One list for the daemon that refuses and the control plane that audits.
 */
public enum WorkflowRefusal {
  /** the control plane has no such workflow, or could not be asked */
  NOT_FOUND("not_found"),
  UNREACHABLE("unreachable"),
  /** the served text or answer does not parse, or names another workflow */
  MALFORMED("malformed"),
  /** the workspace has no keyset pinned here: nothing could vouch for a signer */
  NO_PINNED_TRUST("no_pinned_trust"),
  /** the pinned trust cannot be read (fails closed) */
  TRUST_UNREADABLE("trust_unreadable"),
  SIGNER_REVOKED("signer_revoked"),
  /** no credential of the current keyset for the signer in the pin */
  UNKNOWN_SIGNER("unknown_signer"),
  /** the signature does not verify over the definition as served (e.g. an edited text) */
  BAD_SIGNATURE("bad_signature"),
  /** a version lower than one already run here */
  ROLLED_BACK("rolled_back"),
  /** the version already run here, with other content */
  VERSION_REUSED("version_reused"),
  /** the run's inputs do not match the definition's declarations */
  BAD_INPUTS("bad_inputs"),
  /**
   * the current version is not the one the run started with: every machine of one run runs the same
   * version
   */
  VERSION_CHANGED("version_changed"),
  /**
   * the steps asked for are not a run of consecutive steps naming this machine, or the earlier
   * steps' statuses do not fit the definition
   */
  BAD_STEPS("bad_steps");

  private final String code;

  WorkflowRefusal(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }

  /** The refusal whose code is {@code code}; empty for any other text. */
  public static Optional<WorkflowRefusal> fromCode(String code) {
    return Stream.of(values()).filter(r -> r.code.equals(code)).findFirst();
  }
}
