package dev.umbra.proto.api;

/**
 * The WebTTY engine's paths (docs/webtty.md), in one place for the engine and its clients (the
 * daemon's TTY server, the CLI's TTY client, recordings and live sessions). Templates as in {@link
 * ControlPlanePaths}; the engine mounts each through {@link PathTemplates#vertxRoute}.
 */
public final class WebTtyPaths {
  /** WebSocket of a machine's TTY server (a machine session token). */
  public static final String SERVER = "/v1/webtty/server";

  /** WebSocket of a client (a member session token). */
  public static final String CLIENT = "/v1/webtty/client";

  /** The caller's recordings ({@code ?limit=}). */
  public static final String RECORDINGS = "/v1/webtty/recordings";

  /**
   * One recording's replay ({@code ?purpose=export} for an export); a session id is
   * [A-Za-z0-9._:-].
   */
  public static final String RECORDING = RECORDINGS + "/{session}";

  /** The caller's live sessions ({@code ?key_id=}). */
  public static final String SESSIONS = "/v1/webtty/sessions";

  private WebTtyPaths() {}
}
