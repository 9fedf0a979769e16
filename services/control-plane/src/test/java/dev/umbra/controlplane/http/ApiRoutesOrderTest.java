package dev.umbra.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

/**
 * Routes mounted first (the hot messaging paths) are only those no other route of their method
 * could serve, so mounting them first changes which route serves no request.
 */
class ApiRoutesOrderTest {
  static ApiRoutes with(String... methodAndPaths) {
    ApiRoutes routes = new ApiRoutes();
    for (String mp : methodAndPaths) {
      String[] p = mp.split(" ");
      routes.add(
          HttpMethod.valueOf(p[0]),
          p[1],
          "a route",
          ApiRoutes.Auth.NONE,
          200,
          Schema.NO_BODY,
          Schema.anyObject("anything"),
          ctx -> {});
    }
    return routes;
  }

  @Test
  void templatesOverlapWhenEverySegmentIsEqualOrAParameter() {
    assertThat(ApiRoutes.overlap("/v1/workspaces/{ws}/messages", "/v1/workspaces/{ws}/{kind}"))
        .isTrue();
    assertThat(ApiRoutes.overlap("/v1/workspaces/{ws}/messages", "/v1/workspaces/x/messages"))
        .isTrue();
    assertThat(ApiRoutes.overlap("/v1/workspaces/{ws}/messages", "/v1/workspaces/{ws}/machines"))
        .isFalse();
    assertThat(
            ApiRoutes.overlap("/v1/workspaces/{ws}/messages", "/v1/workspaces/{ws}/messages/acks"))
        .isFalse();
  }

  @Test
  void aRouteAnotherOfItsMethodCouldServeIsNotMountedFirst() {
    ApiRoutes routes =
        with(
            "POST /v1/workspaces/{ws}/{kind}",
            "POST /v1/workspaces/{ws}/messages",
            "GET /v1/workspaces/{ws}/messages");
    assertThatThrownBy(() -> routes.mountFirst(HttpMethod.POST, "/v1/workspaces/{ws}/messages"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("overlaps");
    routes.mountFirst(HttpMethod.GET, "/v1/workspaces/{ws}/messages"); // no other GET: fine
    assertThatThrownBy(() -> routes.mountFirst(HttpMethod.GET, "/v1/nothing"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
