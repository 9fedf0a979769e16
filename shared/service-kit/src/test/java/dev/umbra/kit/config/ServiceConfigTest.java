package dev.umbra.kit.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceConfigTest {

  private static ServiceConfig load(ServiceName s, Map<String, String> env) {
    return ServiceConfig.load(s, new Env(env));
  }

  @Test
  void usesTheDesignDefaultsWhenNothingIsSet() {
    ServiceConfig c = load(ServiceName.AUDIT, Map.of());
    assertThat(c.port()).isEqualTo(8083);
    assertThat(c.pgUrl()).isEqualTo(URI.create("postgresql://postgres@127.0.0.1:5432/umbra"));
    assertThat(c.redisUrl()).isEqualTo(URI.create("redis://127.0.0.1:6379"));
    assertThat(c.publicUrls().get(ServiceName.RELAY))
        .isEqualTo(URI.create("http://127.0.0.1:8081"));
    assertThat(c.adminToken()).isEmpty();
  }

  @Test
  void eachServiceHasItsOwnPortVariable() {
    ServiceConfig c = load(ServiceName.WEBTTY_ENGINE, Map.of("UMBRA_WEBTTY_ENGINE_PORT", "9999"));
    assertThat(c.port()).isEqualTo(9999);
  }

  @Test
  void rejectsANonNumericPortNamingTheVariable() {
    assertThatThrownBy(() -> load(ServiceName.RELAY, Map.of("UMBRA_RELAY_PORT", "eighty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_RELAY_PORT:")
        .hasMessageContaining("eighty");
  }

  @Test
  void rejectsAPortOutOfRange() {
    assertThatThrownBy(() -> load(ServiceName.RELAY, Map.of("UMBRA_RELAY_PORT", "70000")))
        .isInstanceOf(ConfigException.class)
        .extracting(e -> ((ConfigException) e).variable())
        .isEqualTo("UMBRA_RELAY_PORT");
  }

  @Test
  void rejectsAWrongSchemeWithoutEchoingTheUrl() {
    assertThatThrownBy(
            () -> load(ServiceName.AUDIT, Map.of("UMBRA_PG_URL", "mysql://root:s3cret@db/umbra")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_PG_URL:")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void rejectsAnUnparsableRedisUrl() {
    assertThatThrownBy(
            () -> load(ServiceName.AUDIT, Map.of("UMBRA_REDIS_URL", "redis://bad host:6379")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_REDIS_URL:");
  }

  @Test
  void rejectsAShortAdminToken() {
    assertThatThrownBy(() -> load(ServiceName.AUDIT, Map.of("UMBRA_ADMIN_TOKEN", "short")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_ADMIN_TOKEN:")
        .hasMessageNotContaining("short\n");
  }

  @Test
  void rejectsABusPrefixWithSpaces() {
    assertThatThrownBy(() -> load(ServiceName.AUDIT, Map.of("UMBRA_BUS_PREFIX", "a b")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_BUS_PREFIX:");
  }

  @Test
  void requestsConnectAsTheUserOfThePgAppUrlWhenGiven() {
    ServiceConfig c =
        load(
            ServiceName.AUDIT,
            Map.of("UMBRA_PG_APP_URL", "postgresql://umbra_req:pw@db:5432/umbra"));
    assertThat(c.pgAppUrl()).contains(URI.create("postgresql://umbra_req:pw@db:5432/umbra"));
    assertThat(c.pgAppRole()).isEqualTo("umbra_req");
    assertThat(load(ServiceName.AUDIT, Map.of()).pgAppUrl()).isEmpty();
  }

  @Test
  void rejectsAPgAppUrlWithoutAUserOrDisagreeingWithThePgAppRole() {
    assertThatThrownBy(
            () -> load(ServiceName.AUDIT, Map.of("UMBRA_PG_APP_URL", "postgresql://db:5432/umbra")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_PG_APP_URL:");
    assertThatThrownBy(
            () ->
                load(
                    ServiceName.AUDIT,
                    Map.of(
                        "UMBRA_PG_APP_URL",
                        "postgresql://umbra_req:pw@db/umbra",
                        "UMBRA_PG_APP_ROLE",
                        "umbra_app")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("UMBRA_PG_APP_ROLE:")
        .hasMessageNotContaining("pw");
  }
}
