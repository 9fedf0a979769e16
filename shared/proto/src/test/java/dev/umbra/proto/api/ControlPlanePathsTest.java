package dev.umbra.proto.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class ControlPlanePathsTest {
  @Test
  void buildersFillTheTemplatesInOrder() {
    UUID w = UUID.fromString("00000000-0000-0000-0000-00000000000a");
    UUID m = UUID.fromString("00000000-0000-0000-0000-00000000000b");
    assertThat(ControlPlanePaths.machine(w, m)).isEqualTo("/v1/workspaces/" + w + "/machines/" + m);
    assertThat(ControlPlanePaths.machineTtyPolicy(w, m))
        .isEqualTo("/v1/workspaces/" + w + "/machines/" + m + "/tty-policy");
    assertThat(ControlPlanePaths.token("t1")).isEqualTo("/v1/tokens/t1");
  }

  @Test
  void aParameterIsOneEncodedSegmentSoItCannotEscapeItsPlace() {
    assertThat(ControlPlanePaths.machines("a/../b c?x"))
        .isEqualTo("/v1/workspaces/a%2F..%2Fb%20c%3Fx/machines");
  }

  @Test
  void aMissingExtraOrEmptyValueIsRefused() {
    assertThatThrownBy(() -> PathTemplates.fill(ControlPlanePaths.MACHINE, "w"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{machine_id}");
    assertThatThrownBy(() -> PathTemplates.fill(ControlPlanePaths.MACHINES, "w", "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ControlPlanePaths.machines(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void aTemplateBecomesTheVertxRouteOfTheSamePath() {
    assertThat(PathTemplates.vertxRoute(ControlPlanePaths.MACHINE))
        .isEqualTo("/v1/workspaces/:workspace_id/machines/:machine_id");
    assertThat(PathTemplates.vertxRoute(PairingPaths.REDEEM)).isEqualTo("/v1/redeem");
    assertThat(PairingPaths.code("w", "c 1")).isEqualTo("/v1/workspaces/w/codes/c%201");
  }

  @Test
  void allListsEveryTemplate() {
    assertThat(ControlPlanePaths.all())
        .contains(ControlPlanePaths.DISCOVERY, ControlPlanePaths.VAULT_GRANT)
        .allMatch(p -> p.startsWith("/v1/"))
        .doesNotHaveDuplicates();
  }
}
