package dev.umbra.proto.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The relay's, the engine's and the audit service's paths as their services mount them and their
 * clients build them (each service's tests reach them at these literal paths).
 */
class ServicePathsTest {
  @Test
  void theAuditPathsAreTheWorkspacesAuditOperations() {
    UUID w = UUID.fromString("0192d6e4-0000-7000-8000-000000000001");
    assertThat(AuditPaths.audit(w, "events"))
        .isEqualTo("/v1/workspaces/0192d6e4-0000-7000-8000-000000000001/audit/events");
    assertThat(PathTemplates.vertxRoute(AuditPaths.EVENTS))
        .isEqualTo("/v1/workspaces/:workspace/audit/events");
    assertThat(PathTemplates.vertxRoute(AuditPaths.TAIL))
        .isEqualTo("/v1/workspaces/:workspace/audit/tail");
    assertThat(PathTemplates.vertxRoute(AuditPaths.REDRIVE))
        .isEqualTo("/v1/admin/audit/dead-letters/:entry_id/redrive");
    assertThatThrownBy(() -> AuditPaths.audit("", "events"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theRelayAndEnginePaths() {
    assertThat(RelayPaths.RELAY).isEqualTo("/v1/relay");
    assertThat(WebTtyPaths.SERVER).isEqualTo("/v1/webtty/server");
    assertThat(WebTtyPaths.CLIENT).isEqualTo("/v1/webtty/client");
    assertThat(PathTemplates.vertxRoute(WebTtyPaths.RECORDING))
        .isEqualTo("/v1/webtty/recordings/:session");
    assertThat(WebTtyPaths.SESSIONS).isEqualTo("/v1/webtty/sessions");
  }
}
