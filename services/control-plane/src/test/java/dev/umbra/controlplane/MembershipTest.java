package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Invitations, roles and cursor pagination. */
@ExtendWith(VertxExtension.class)
class MembershipTest {
  Harness h;
  Harness.Owner o;
  String base;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    o = h.bootstrap("dev");
    base = "/v1/workspaces/" + o.workspaceId();
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String invite(String role) {
    Harness.Response r =
        h.call("POST", base + "/invitations", o.token(), new JsonObject().put("role", role));
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.body().getString("token")).startsWith("umi_");
    return r.body().getString("token");
  }

  Harness.Response accept(String token, String name) {
    return h.call(
        "POST",
        "/v1/invitations/accept",
        null,
        new JsonObject().put("token", token).put("account_name", name));
  }

  @Test
  void anInvitationWorksOnceAndNotAfterCancelOrExpiry() {
    String t = invite("member");
    Harness.Response joined = accept(t, "bob");
    assertThat(joined.status()).isEqualTo(201);
    assertThat(joined.body().getString("role")).isEqualTo("member");
    assertThat(accept(t, "eve").errorCode()).isEqualTo("invalid_invitation");

    String cancelled = invite("viewer");
    String id =
        h.call("GET", base + "/invitations", o.token(), null).body().getJsonArray("items").stream()
            .map(JsonObject.class::cast)
            .filter(i -> i.getString("status").equals("pending"))
            .findFirst()
            .orElseThrow()
            .getString("id");
    assertThat(h.call("DELETE", base + "/invitations/" + id, o.token(), null).status())
        .isEqualTo(204);
    assertThat(accept(cancelled, "eve").status()).isEqualTo(404);

    String expiring = invite("viewer");
    h.clock.advance(Duration.ofDays(7).plusSeconds(1));
    assertThat(accept(expiring, "eve").status()).isEqualTo(404);
    assertThat(accept("umi_" + "A".repeat(43), "eve").status()).isEqualTo(404);
  }

  @Test
  void rolesLimitWhatMembersMayDo() {
    String viewer =
        accept(invite("viewer"), "vic").body().getJsonObject("api_token").getString("token");
    String admin =
        accept(invite("admin"), "ada").body().getJsonObject("api_token").getString("token");
    assertThat(h.call("GET", base + "/members", viewer, null).status()).isEqualTo(200);
    assertThat(h.call("POST", base + "/teams", viewer, new JsonObject().put("name", "x")).status())
        .isEqualTo(403);
    assertThat(h.call("POST", base + "/invitations", viewer, new JsonObject()).status())
        .isEqualTo(403);
    String ownerMember = h.call("GET", base, o.token(), null).body().getString("member_id");
    // an admin cannot touch an owner, nor make one
    assertThat(h.call("DELETE", base + "/members/" + ownerMember, admin, null).status())
        .isEqualTo(403);
    String vicId =
        h.call("GET", base + "/members", admin, null).body().getJsonArray("items").stream()
            .map(JsonObject.class::cast)
            .filter(m -> m.getString("name").equals("vic"))
            .findFirst()
            .orElseThrow()
            .getString("id");
    assertThat(
            h.call(
                    "PATCH",
                    base + "/members/" + vicId,
                    admin,
                    new JsonObject().put("role", "owner"))
                .status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "PATCH",
                    base + "/members/" + vicId,
                    admin,
                    new JsonObject().put("role", "member"))
                .status())
        .isEqualTo(200);
    assertThat(
            h.call("PATCH", base + "/members/" + vicId, admin, new JsonObject().put("role", "god"))
                .errorField())
        .isEqualTo("role");
    // the last owner stays
    assertThat(
            h.call(
                    "PATCH",
                    base + "/members/" + ownerMember,
                    o.token(),
                    new JsonObject().put("role", "admin"))
                .status())
        .isEqualTo(409);
    assertThat(h.call("DELETE", base + "/members/" + ownerMember, o.token(), null).status())
        .isEqualTo(409);
    // a removed member loses the workspace at once
    assertThat(h.call("DELETE", base + "/members/" + vicId, admin, null).status()).isEqualTo(204);
    assertThat(h.call("GET", base + "/members", viewer, null).status()).isEqualTo(404);
  }

  @Test
  void listsPageWithACursor() {
    for (int i = 0; i < 5; i++) {
      assertThat(
              h.call("POST", base + "/teams", o.token(), new JsonObject().put("name", "team-" + i))
                  .status())
          .isEqualTo(201);
    }
    assertThat(
            h.call("POST", base + "/teams", o.token(), new JsonObject().put("name", "team-0"))
                .status())
        .isEqualTo(409);
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      Harness.Response r =
          h.call(
              "GET",
              base + "/teams?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
              o.token(),
              null);
      assertThat(r.status()).isEqualTo(200);
      r.body().getJsonArray("items").forEach(t -> seen.add(((JsonObject) t).getString("name")));
      cursor = r.body().getString("next_cursor");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(5);
    assertThat(h.call("GET", base + "/teams?cursor=nope", o.token(), null).errorField())
        .isEqualTo("cursor");
  }
}
