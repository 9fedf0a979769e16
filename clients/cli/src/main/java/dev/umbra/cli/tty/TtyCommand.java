package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.api.Machine;
import dev.umbra.client.api.Member;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.ServerTrust;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.webtty.WebTtyFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra tty <machine>}: a shell on the machine in this terminal, end-to-end encrypted
 * (docs/webtty.md). Raw mode and resize through JLine; the exit status is the remote shell's.
 * Escapes after Enter: {@code ~.} detach (the shell keeps running; {@code --attach <session>} comes
 * back), {@code ~r} ask for control, {@code ~t} take control back, {@code ~?} help.
 */
@Command(
    name = "tty",
    description =
        "Open an end-to-end encrypted terminal on a machine (`umbra tty local` in dev mode).",
    subcommands = {
      TtyCommand.Control.class,
      TtyCommand.Share.class,
      TtyCommand.Key.class,
      TtyCommand.Sessions.class
    })
public final class TtyCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin WorkspaceOption ws;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "<machine>",
      description = "Machine name or id.")
  String machine;

  @Option(
      names = "--join",
      paramLabel = "<session>",
      description = "Watch a live session (ask for control with ~r).")
  String join;

  @Option(
      names = "--attach",
      paramLabel = "<session>",
      description = "Re-attach to your own detached session.")
  String attach;

  @Option(
      names = "--e2e",
      description =
          "Fail unless the session is verified end-to-end encrypted (it always is; this makes it an assertion).")
  boolean e2e;

  @Option(
      names = "--share-with",
      paramLabel = "<x25519-hex>",
      description =
          "Also grant the session's output key to this X25519 key (they can join and export). Under Workspace Protection only a trusted device's published WebTTY key; trusted devices the join policy allows are recipients without it.")
  List<String> shareWith = new ArrayList<>();

  @Option(
      names = "--command",
      paramLabel = "<line>",
      description = "Run this line, then exit with its status (no raw mode).")
  String command;

  public TtyCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() throws Exception {
    int modes = (machine != null ? 1 : 0) + (join != null ? 1 : 0) + (attach != null ? 1 : 0);
    if (modes != 1) {
      throw new UsageException("give one of <machine>, --join <session> or --attach <session>");
    }
    Api api = new Api(ctx);
    UUID w = api.workspace(ws.value());
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    URI engine = URI.create(api.serviceUrl("webtty-engine"));
    Map<String, JsonObject> machines = new HashMap<>();
    for (Object o : api.all(ControlPlanePaths.machines(w))) {
      JsonObject m = (JsonObject) o;
      machines.put(m.getString("id"), m);
    }
    String serverId = machine == null ? null : resolve(machines, machine);
    List<X25519PublicKey> shared = new ArrayList<>();
    for (String hex : shareWith) {
      shared.add(X25519PublicKey.fromHex(hex));
    }
    Vertx vertx = Vertx.vertx();
    try {
      Supplier<Future<String>> tokens =
          () -> vertx.executeBlocking(() -> api.session(w, "webtty-engine"));
      ServerTrust pins = ServerTrust.pinned(keys.pins());
      ServerTrust trust =
          (wid, server, sig, kx) -> {
            JsonObject rec = machines.get(server);
            if (rec == null
                || !sig.toHex().equals(rec.getString("ed25519_public_key"))
                || !kx.toHex().equals(rec.getString("x25519_public_key"))) {
              throw new AuthenticationFailedException(
                  "the WebTTY server's keys are not those of machine "
                      + server
                      + " in the workspace; refusing to send anything");
            }
            pins.check(wid, server, sig, kx);
          };
      TtyClient.Options options =
          withDeviceCredential(
              new TtyClient.Options(
                  engine,
                  w,
                  tokens,
                  keys.signing(),
                  keys.agreement(),
                  trust,
                  shared,
                  Clock.systemUTC()),
              api,
              w,
              keys,
              serverId);
      java.util.function.Function<List<String>, ShareTargets> targets =
          with -> shareTargets(api, w, with, keys.agreement().publicKey());
      return command != null
          ? runCommand(vertx, options, serverId)
          : interactive(vertx, options, serverId, keys, targets);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  /**
   * With Workspace Protection (the workspace has a keyset) the proof carries this device's
   * workspace-signed credential and is signed with the device's Ed25519 key, which is what the
   * daemon checks (docs/webtty.md); without a keyset the CLI's WebTTY key signs, as before. A
   * workspace with a keyset and no valid credential for this device is an error, never a fallback.
   */
  static TtyClient.Options withDeviceCredential(TtyClient.Options o, Api api, UUID workspaceId) {
    return withDeviceCredential(o, api, workspaceId, null, null);
  }

  /**
   * As above, and for a session this device opens on {@code serverId} (null when joining or
   * attaching): its output-key recipients are the trusted devices of the members the machine's join
   * policy allows (docs/webtty.md, "Recipients"), each with what vouches for it to the daemon;
   * {@code --share-with} keys must be trusted devices' keys. {@code keys} (when given) is published
   * as this device's WebTTY key so that teammates' sessions include it.
   */
  static TtyClient.Options withDeviceCredential(
      TtyClient.Options o, Api api, UUID workspaceId, TtyKeys keys, String serverId) {
    WorkspaceProtection wp = new WorkspaceProtection(api, workspaceId);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    if (keyset.isEmpty()) {
      return o;
    }
    Signed credential = wp.ownCredential();
    if (keys != null) {
      TtyRecipients.publishOwn(api, wp, keys, api.context().clock());
    }
    List<X25519PublicKey> extra = new ArrayList<>();
    List<Handshake.RecipientDevice> vouches = new ArrayList<>();
    if (serverId != null) {
      List<TtyRecipients.Recipient> devices = TtyRecipients.trustedDevices(api, wp, keyset.get());
      Optional<dev.umbra.client.ttypolicy.TtyPolicy> policy =
          TtyRecipients.policy(api, wp, keyset.get(), UUID.fromString(serverId));
      List<TtyRecipients.Recipient> chosen =
          new ArrayList<>(
              TtyRecipients.allowed(
                  devices,
                  policy
                      .map(dev.umbra.client.ttypolicy.TtyPolicy::join)
                      .orElse(dev.umbra.client.ttypolicy.TtyPolicy.Join.NOBODY),
                  TtyRecipients.admins(api, workspaceId),
                  wp.store().require().id()));
      // the policy's reviewers read the recording (output here; the daemon grants them the input
      // keys)
      for (dev.umbra.client.ttypolicy.TtyPolicy.Reviewer reviewer :
          policy.map(p -> p.reviewers()).orElse(List.of())) {
        devices.stream()
            .filter(
                r ->
                    r.deviceId().equals(reviewer.deviceId())
                        && !chosen.contains(r)
                        && !r.deviceId().equals(wp.store().require().id()))
            .forEach(chosen::add);
      }
      for (X25519PublicKey k : o.extraRecipients()) {
        TtyRecipients.Recipient r = TtyRecipients.shared(devices, k);
        if (!chosen.contains(r)) {
          chosen.add(r);
        }
      }
      for (TtyRecipients.Recipient r : chosen) {
        if (!r.key().equals(o.agreementKey().publicKey()) && !extra.contains(r.key())) {
          extra.add(r.key());
          vouches.add(r.vouch());
        }
      }
    }
    return new TtyClient.Options(
        o.engineUrl(),
        o.workspaceId(),
        o.tokens(),
        wp.store().require().signing(),
        o.agreementKey(),
        o.trust(),
        extra,
        o.clock(),
        credential,
        vouches);
  }

  static String resolve(Map<String, JsonObject> machines, String idOrName) {
    if (machines.containsKey(idOrName)) {
      return idOrName;
    }
    String match = null;
    for (JsonObject m : machines.values()) {
      if (idOrName.equals(m.getString("name")) && "active".equals(m.getString("status"))) {
        if (match != null) {
          throw new CliException("more than one machine is named '" + idOrName + "'; use its id");
        }
        match = m.getString("id");
      }
    }
    if (match == null) {
      throw new CliException(
          "no machine '" + idOrName + "' in this workspace (see `umbra machines list`)");
    }
    return match;
  }

  /** Where the session's end lands: an exit status, or a reason it closed. */
  private static final class Ending implements TtyClient.Listener {
    final OutputStream out;
    final CompletableFuture<Integer> done = new CompletableFuture<>();
    final StringBuilder notes = new StringBuilder();

    Ending(OutputStream out) {
      this.out = out;
    }

    @Override
    public void output(byte[] bytes) {
      try {
        out.write(bytes);
        out.flush();
      } catch (IOException e) {
        // the local terminal went away; the session stays
      }
    }

    @Override
    public void exit(int status) {
      done.complete(status);
    }

    @Override
    public void closed(String reason) {
      if (done.complete(null)) {
        notes.append(reason);
      }
    }

    @Override
    public void event(WebTtyFrame f) {
      String note =
          switch (f.getType()) {
            case WEBTTY_FRAME_TYPE_CONTROL_REQUEST ->
                "participant "
                    + f.getParticipantId()
                    + " asks for control: `umbra tty control give "
                    + f.getParticipantId()
                    + "`";
            case WEBTTY_FRAME_TYPE_CONTROL_CHANGED -> "control is now with " + f.getParticipantId();
            case WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED ->
                "participant " + f.getParticipantId() + " joined";
            case WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT ->
                "participant " + f.getParticipantId() + " left";
            case WEBTTY_FRAME_TYPE_REFUSED -> "refused: " + f.getReason();
            case WEBTTY_FRAME_TYPE_OUTPUT_KEY ->
                "new output key: the session is now shared with "
                    + f.getGrantsCount()
                    + " recipient(s) (including the server)";
            default -> null;
          };
      if (note != null) {
        output(("\r\n[umbra] " + note + "\r\n").getBytes(StandardCharsets.UTF_8));
      }
    }

    @Override
    public void integrity(String problem, long count) {
      String note =
          "output_gap".equals(problem)
              ? "output gap: " + count + " frame(s) missing"
              : "refused a repeated output frame (counter " + count + ")";
      output(("\r\n[umbra] " + note + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  private Future<TtyClient> connect(
      Vertx vertx,
      TtyClient.Options o,
      String serverId,
      int cols,
      int rows,
      String term,
      TtyClient.Listener l) {
    if (join != null) {
      return TtyClient.join(vertx, o, join, false, l);
    }
    if (attach != null) {
      return TtyClient.join(vertx, o, attach, true, l);
    }
    return TtyClient.open(vertx, o, serverId, cols, rows, term, l);
  }

  private TtyClient await(Future<TtyClient> f) throws Exception {
    try {
      TtyClient c = f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (e2e && !c.endToEnd()) {
        throw new CliException(
            "--e2e: the session is not verified end-to-end encrypted; nothing was sent");
      }
      if (e2e) {
        ctx.err()
            .println(
                "umbra: end-to-end encrypted (aes-256-gcm, HPKE key grants; server "
                    + c.serverId()
                    + " verified)");
      }
      return c;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new CliException(e.getCause().getMessage());
    }
  }

  private int runCommand(Vertx vertx, TtyClient.Options o, String serverId) throws Exception {
    Ending ending = new Ending(ctx.out());
    TtyClient c =
        await(
            connect(
                vertx,
                o,
                serverId,
                80,
                24,
                ctx.env().getOrDefault("TERM", "xterm-256color"),
                ending));
    c.send((command + "\nexit\n").getBytes(StandardCharsets.UTF_8));
    Integer status = ending.done.get();
    ctx.out().flush();
    if (status == null) {
      throw new CliException("the session ended without an exit status: " + ending.notes);
    }
    return status;
  }

  private int interactive(
      Vertx vertx,
      TtyClient.Options o,
      String serverId,
      TtyKeys keys,
      java.util.function.Function<List<String>, ShareTargets> targets)
      throws Exception {
    try (Terminal t = TerminalBuilder.builder().system(true).build()) {
      Ending ending = new Ending(t.output());
      String term = ctx.env().getOrDefault("TERM", "xterm-256color");
      TtyClient c =
          await(
              connect(
                  vertx,
                  o,
                  serverId,
                  Math.max(1, t.getWidth()),
                  Math.max(1, t.getHeight()),
                  term,
                  ending));
      Attributes saved = t.enterRawMode();
      t.handle(
          Terminal.Signal.WINCH,
          s -> c.resize(Math.max(1, t.getWidth()), Math.max(1, t.getHeight())));
      if (join != null || attach != null) {
        c.resize(Math.max(1, t.getWidth()), Math.max(1, t.getHeight()));
      }
      try (ControlSocket control =
          ControlSocket.listen(keys.dir(), c.sessionId(), line -> control(c, line, targets))) {
        ctx.err()
            .print(
                "[umbra] session "
                    + c.sessionId()
                    + " (~. detach, ~r ask for control, ~? help)\r\n");
        Thread reader =
            Thread.ofPlatform()
                .daemon()
                .name("tty-stdin")
                .start(() -> pumpKeys(t.input(), c, ending));
        Integer status = ending.done.get();
        reader.interrupt();
        t.setAttributes(saved);
        if (status == null) {
          if (ending.notes.toString().equals("detached")) {
            ctx.err()
                .println(
                    "\r\n[umbra] detached; the shell keeps running: umbra tty --attach "
                        + c.sessionId());
            return 0;
          }
          throw new CliException("session closed: " + ending.notes);
        }
        return status;
      }
    }
  }

  /**
   * The keys a share adds, with what vouches for each to the daemon (Workspace Protection), and
   * their names; {@code self} this device's own entry (its credential and WebTTY key binding; null
   * without Workspace Protection), which a controller who did not open the session names as the
   * sharer.
   */
  record ShareTargets(
      List<X25519PublicKey> keys,
      List<Handshake.RecipientDevice> vouches,
      List<String> names,
      Handshake.RecipientDevice self) {}

  /**
   * Resolves {@code umbra tty share --with} values. Under Workspace Protection each value is a
   * trusted device (id or name) or a member (account id or name), meaning all of that member's
   * trusted devices with a published WebTTY key, verified against this CLI's pinned keyset chain as
   * for "Recipients" (the daemon checks them again against its pin). Without it, a value is an
   * X25519 public key in hex (there is no signed trust material to name devices by).
   */
  static ShareTargets shareTargets(Api api, UUID w, List<String> with, X25519PublicKey self) {
    WorkspaceProtection wp = new WorkspaceProtection(api, w);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    List<X25519PublicKey> keys = new ArrayList<>();
    List<Handshake.RecipientDevice> vouches = new ArrayList<>();
    List<String> names = new ArrayList<>();
    if (keyset.isEmpty()) {
      for (String v : with) {
        try {
          keys.add(X25519PublicKey.fromHex(v));
        } catch (RuntimeException e) {
          throw new CliException(
              "without Workspace Protection --with takes an X25519 key in hex (`umbra tty key`): "
                  + v);
        }
        names.add(v);
      }
      return new ShareTargets(keys, vouches, names, null);
    }
    Handshake.RecipientDevice own = null;
    for (TtyRecipients.Recipient r : TtyRecipients.trustedDevices(api, wp, keyset.get())) {
      if (r.key().equals(self)) {
        own = r.vouch();
      }
    }
    for (TtyRecipients.Recipient r : TtyRecipients.named(api, wp, keyset.get(), w, with)) {
      if (!r.key().equals(self) && !keys.contains(r.key())) {
        keys.add(r.key());
        vouches.add(r.vouch());
        names.add(r.name());
      }
    }
    return new ShareTargets(keys, vouches, names, own);
  }

  private static String control(
      TtyClient c, String line, java.util.function.Function<List<String>, ShareTargets> targets) {
    String[] parts = line.split("\\s+");
    switch (parts[0]) {
      case "share" -> {
        if (parts.length < 2) {
          return "error: share <member|device> ...";
        }
        List<String> with = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
          with.add(java.net.URLDecoder.decode(parts[i], StandardCharsets.UTF_8));
        }
        try {
          ShareTargets t = targets.apply(with);
          if (t.keys().isEmpty()) {
            return "error: nobody to add (only this device matched)";
          }
          c.share(t.keys(), t.vouches(), t.self());
          return "ok: share request sent for "
              + String.join(", ", t.names())
              + "; the session shows the daemon's answer (a new output key, or share_refused_<reason>)";
        } catch (CliException | IllegalStateException e) {
          return "error: " + e.getMessage();
        }
      }
      case "request" -> c.requestControl();
      case "give" -> {
        if (parts.length < 2) {
          return "error: give <participant>";
        }
        c.giveControl(parts[1]);
      }
      case "take" -> c.takeControl();
      case "who" -> {
        return "me " + c.participantId() + "; others " + c.participants();
      }
      default -> {
        return "error: unknown command " + parts[0];
      }
    }
    return "ok";
  }

  /** Keystrokes to the session; "~." after Enter detaches, "~r" asks for control, "~t" takes it. */
  private static void pumpKeys(InputStream in, TtyClient c, Ending ending) {
    byte[] buf = new byte[4096];
    boolean lineStart = true;
    boolean tilde = false;
    try {
      int n;
      while (!ending.done.isDone() && (n = in.read(buf)) >= 0) {
        java.io.ByteArrayOutputStream send = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
          byte b = buf[i];
          if (tilde) {
            tilde = false;
            if (b == '.') {
              c.detach();
              ending.closed("detached");
              return;
            } else if (b == 'r') {
              c.requestControl();
              continue;
            } else if (b == 't') {
              c.takeControl();
              continue;
            } else if (b == '?') {
              ending.output(
                  "\r\n[umbra] ~. detach  ~r ask for control  ~t take control back  ~~ a tilde\r\n"
                      .getBytes(StandardCharsets.UTF_8));
              continue;
            } else if (b != '~') {
              send.write('~');
            }
          } else if (lineStart && b == '~') {
            tilde = true;
            continue;
          }
          send.write(b);
          lineStart = b == '\r' || b == '\n';
        }
        if (send.size() > 0) {
          try {
            c.send(send.toByteArray());
          } catch (IllegalStateException e) {
            return;
          }
        }
      }
    } catch (IOException e) {
      // the local terminal closed
    }
  }

  /**
   * {@code umbra tty control request|give <participant>|take|who}: acts through the running {@code
   * umbra tty}.
   */
  @Command(
      name = "control",
      description = "Ask for, give or take back control of the running session.")
  public static final class Control implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "request|give|take|who")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "<participant>")
    String participant;

    @Option(
        names = "--session",
        paramLabel = "<session>",
        description = "Which running session (default: the only one).")
    String session;

    public Control(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (!List.of("request", "give", "take", "who").contains(action)) {
        throw new UsageException("control takes request, give <participant>, take or who");
      }
      if (action.equals("give") && participant == null) {
        throw new UsageException("give needs the participant id (shown when they ask)");
      }
      TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
      String reply =
          ControlSocket.send(
              keys.dir(), session, action + (participant == null ? "" : " " + participant));
      ctx.out().println(reply);
      return reply.startsWith("error") ? 1 : 0;
    }
  }

  /**
   * {@code umbra tty share <session> --with <member|device>}: adds recipients to the live session
   * through the running {@code umbra tty} that opened it (docs/webtty.md "Adding a recipient to a
   * live session"); the daemon starts a new output-key epoch that includes them.
   */
  @Command(
      name = "share",
      description =
          "Add a member's trusted devices, or a device, to a live session you opened or control (through your running `umbra tty` in it).")
  public static final class Share implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(
        index = "0",
        paramLabel = "<session>",
        description = "The session (printed when it started).")
    String session;

    @Option(
        names = "--with",
        required = true,
        paramLabel = "<member|device>",
        description =
            "A member (id or name: all their trusted devices) or a device (id or name); without Workspace Protection an X25519 key in hex. Repeatable.")
    List<String> with = new ArrayList<>();

    public Share(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
      StringBuilder line = new StringBuilder("share");
      for (String v : with) {
        line.append(' ').append(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8));
      }
      String reply = ControlSocket.send(keys.dir(), session, line.toString());
      ctx.out().println(reply);
      return reply.startsWith("error") ? 1 : 0;
    }
  }

  /**
   * {@code umbra tty sessions}: the live sessions of the workspace this CLI may want to join, from
   * the engine ({@code GET /v1/webtty/sessions}, docs/webtty.md "Viewers"): admins see every one,
   * others their own and those granting this CLI's WebTTY key. "grant" says whether this CLI's key
   * is among the session's output-key recipients, i.e. whether {@code --join} can decrypt it.
   */
  @Command(
      name = "sessions",
      description =
          "List live sessions you may join (yours, those granted to this device; admins: all).")
  public static final class Sessions extends dev.umbra.cli.InWorkspace {
    public Sessions(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
      String ownKeyId = dev.umbra.crypto.webtty.KeyId.of(keys.agreement().publicKey()).toHex();
      String token = api.session(w, "webtty-engine");
      JsonObject body =
          ctx.http()
              .get(
                  dev.umbra.client.http.JsonHttp.resolve(
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
      io.vertx.core.json.JsonArray rows = new io.vertx.core.json.JsonArray();
      for (Object o : body.getJsonArray("sessions", new io.vertx.core.json.JsonArray())) {
        JsonObject sj = (JsonObject) o;
        boolean grant =
            sj.getJsonArray("output_recipients", new io.vertx.core.json.JsonArray())
                .contains(ownKeyId);
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

  /**
   * {@code umbra tty key}: this CLI's WebTTY public keys (to authorize on a daemon, or to share
   * sessions with).
   */
  @Command(
      name = "key",
      description =
          "Show this CLI's WebTTY public keys; --publish makes this trusted device a recipient of teammates' sessions.")
  public static final class Key implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;

    @Option(
        names = "--publish",
        description =
            "Publish the x25519 key, signed by this CLI's trusted device, so sessions the join policy opens to you include it (Workspace Protection).")
    boolean publish;

    public Key(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
      if (publish) {
        Api api = new Api(ctx);
        UUID w = api.workspace(ws.value());
        WorkspaceProtection wp = new WorkspaceProtection(api, w);
        if (wp.keysetIfAny().isEmpty()) {
          throw new CliException(
              "--publish: the workspace has no keyset, so there are no trusted devices to publish for;"
                  + " share the x25519 key below with --share-with instead");
        }
        wp.trusted();
        TtyRecipients.publishOwn(api, wp, keys, ctx.clock());
        ctx.err()
            .println("published: sessions the join policy opens to you will include this device");
      }
      Ed25519PublicKey sig = keys.signing().publicKey();
      ctx.out().println("signing (authorize on a daemon): " + sig.toHex());
      ctx.out().println("x25519 (--share-with):           " + keys.agreement().publicKey().toHex());
      return 0;
    }
  }
}
