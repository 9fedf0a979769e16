package dev.umbra.webtty.session;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.webtty.recording.RecordingStore;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/webtty/sessions} (docs/webtty.md, "Viewers"): the live sessions of the caller's
 * workspace — the workspace comes from the session token, never from the request — that the caller
 * may want to join: admins and owners see every live session; other members and viewers the ones
 * they opened and those whose output key is granted to {@code key_id} (their device's WebTTY key
 * id; key ids are public, so the parameter is a filter, not a credential — a session id alone gives
 * no access: JOIN still needs the policy and a grant). Only public metadata leaves: ids, times and
 * the key ids of the current output key's recipients (the latest share's, else the opener's).
 */
public final class LiveSessionsRoute {
  static final int MAX = 100;
  private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{32}");
  private static final HexFormat HEX = HexFormat.of();
  private final RecordingStore store;

  public LiveSessionsRoute(RecordingStore store) {
    this.store = store;
  }

  public void mount(Router router, SessionAuth auth) {
    router.get(WebTtyWire.SESSIONS_PATH).handler(auth).handler(this::list);
  }

  private void list(RoutingContext ctx) {
    SessionClaims c = SessionAuth.claims(ctx);
    if (c.subjectKind() != SubjectKind.MEMBER) {
      throw ApiException.forbidden("live sessions are listed to workspace members");
    }
    String keyId = ctx.request().getParam("key_id");
    if (keyId != null && !KEY_ID.matcher(keyId).matches()) {
      throw ApiException.badRequest(
          "key_id", "key_id must be 32 lowercase hex digits (a WebTTY key id)");
    }
    boolean admin = c.role().atLeast(Role.ADMIN);
    store
        .live(c.workspaceId(), MAX)
        .onSuccess(
            rows -> {
              JsonArray out = new JsonArray();
              for (RecordingStore.SessionRecord r : rows) {
                // after a share, the latest output-key epoch's recipients; before, the opener's
                // (epoch 0)
                JsonArray recipients =
                    r.outputRecipients() != null
                        ? new JsonArray(new java.util.ArrayList<>(r.outputRecipients()))
                        : recipients(r.header());
                boolean mine = r.row().openedBy().equals(c.subject());
                if (!admin && !mine && (keyId == null || !recipients.contains(keyId))) {
                  continue;
                }
                out.add(
                    new JsonObject()
                        .put("session_id", r.row().sessionId())
                        .put("server_id", r.row().serverId())
                        .put("opened_by", r.row().openedBy())
                        .put("started_at", r.row().startedAt().toString())
                        .put("recording", r.row().recording())
                        .put("output_recipients", recipients));
              }
              ServiceHttp.json(ctx, 200, new JsonObject().put("sessions", out));
            })
        .onFailure(ctx::fail);
  }

  /** The key ids the opener granted the output key to (from the stored header's grants), sorted. */
  static JsonArray recipients(byte[] header) {
    java.util.TreeSet<String> ids = new java.util.TreeSet<>();
    try {
      for (KeyGrant g : RecordingHeader.parseFrom(header).getGrantsList()) {
        if ("output".equals(g.getKeyRole())) {
          ids.add(HEX.formatHex(g.getRecipientKeyId().toByteArray()));
        }
      }
    } catch (InvalidProtocolBufferException e) {
      // a header that does not parse names no recipients
    }
    return new JsonArray(new java.util.ArrayList<>(ids));
  }
}
