package dev.umbra.proto.api;

/**
 * The pairing service's HTTP paths, in one place for the service and its clients (the CLI's {@code
 * umbra pair}, the daemon's redeem). Templates as in {@link ControlPlanePaths}; the pairing service
 * mounts each through {@link PathTemplates#vertxRoute}.
 */
public final class PairingPaths {
  public static final String CODES = "/v1/workspaces/{workspace_id}/codes";
  public static final String CODE = CODES + "/{code_id}";
  public static final String PSK = "/v1/workspaces/{workspace_id}/psk";
  public static final String REDEEM = "/v1/redeem";

  private PairingPaths() {}

  public static String codes(Object workspaceId) {
    return PathTemplates.fill(CODES, workspaceId);
  }

  public static String code(Object workspaceId, Object codeId) {
    return PathTemplates.fill(CODE, workspaceId, codeId);
  }

  public static String psk(Object workspaceId) {
    return PathTemplates.fill(PSK, workspaceId);
  }
}
