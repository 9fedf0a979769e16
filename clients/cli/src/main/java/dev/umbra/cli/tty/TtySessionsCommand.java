package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.client.api.Machine;
import dev.umbra.client.api.Member;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.webtty.KeyId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Command;

/**
 * {@code umbra tty sessions}: the live sessions of the workspace this CLI may want to join, from
 * the engine ({@code GET /v1/webtty/sessions}, docs/webtty.md "Viewers"): admins see every one,
 * others their own and those granting this CLI's WebTTY key. "grant" says whether this CLI's key is
 * among the session's output-key recipients, i.e. whether {@code --join} can decrypt it.
 */
@Command(
    name = "sessions",
    description =
        "List live sessions you may join (yours, those granted to this device; admins: all).")
public final class TtySessionsCommand extends InWorkspace {
  public TtySessionsCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(Api api, UUID w) {
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    String ownKeyId = KeyId.of(keys.agreement().publicKey()).toHex();
    String token = api.session(w, "webtty-engine");
    JsonObject body =
        ctx.http()
            .get(
                JsonHttp.resolve(
                    RecordingsCommand.engine(api).toString(),
                    "/v1/webtty/sessions?key_id=" + ownKeyId),
                token);
    Map<String, String> machineNames = new HashMap<>();
    for (Machine m : api.machines(w)) {
      machineNames.put(m.id().toString(), m.name());
    }
    Map<String, String> memberNames = new HashMap<>();
    for (Member m : api.members(w)) {
      memberNames.put(m.accountId().toString(), m.name());
    }
    JsonArray rows = new JsonArray();
    for (Object o : body.getJsonArray("sessions", new JsonArray())) {
      JsonObject sj = (JsonObject) o;
      boolean grant = sj.getJsonArray("output_recipients", new JsonArray()).contains(ownKeyId);
      rows.add(
          new JsonObject()
              .put("session_id", sj.getString("session_id"))
              .put("server_id", sj.getString("server_id"))
              .put(
                  "machine",
                  machineNames.getOrDefault(sj.getString("server_id"), sj.getString("server_id")))
              .put("opened_by", sj.getString("opened_by"))
              .put(
                  "opener",
                  memberNames.getOrDefault(sj.getString("opened_by"), sj.getString("opened_by")))
              .put("started_at", sj.getString("started_at"))
              .put("grant", grant ? "yes" : "no"));
    }
    if (output.json()) {
      output.print(ctx.out(), new JsonObject().put("sessions", rows), "");
      return;
    }
    output.table(
        ctx.out(), rows, List.of("session_id", "machine", "opener", "started_at", "grant"));
  }
}
