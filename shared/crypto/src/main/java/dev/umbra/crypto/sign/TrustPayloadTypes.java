package dev.umbra.crypto.sign;

/**
 * The {@code type} of every signed payload of Workspace Protection (docs/device-trust.md), defined
 * once for the control plane that checks them in requests and the clients and daemons that verify
 * them. The type is inside the signed bytes, so a signature over one kind never passes as another.
 */
public final class TrustPayloadTypes {
  /**
   * A keyset version's public keys, signed by the previous version's signing key (or self-signed,
   * the first).
   */
  public static final String KEYSET = "umbra-keyset/v1";

  /** A device asking to be trusted, signed by its own key. */
  public static final String DEVICE_REQUEST = "umbra-device-request/v1";

  /** A trusted device's credential, signed by the workspace signing key. */
  public static final String DEVICE_CREDENTIAL = "umbra-device-credential/v1";

  /** A device's revocation, signed by the workspace signing key. */
  public static final String DEVICE_REVOCATION = "umbra-device-revocation/v1";

  public static final String DEVICE_KEYS = "umbra-device-keys/v1";

  /** A device's WebTTY key, bound by the device's signing key. */
  public static final String DEVICE_WEBTTY_KEY = "umbra-device-webtty-key/v1";

  /**
   * A workflow definition (its canonical parsed form, workspace, name and version), signed by a
   * trusted device's key (docs/agents.md, "Workflows").
   */
  public static final String WORKFLOW = "umbra-workflow/v1";

  public static final String RECOVERY_KIT = "umbra-recovery-kit/v1";
  public static final String BUNDLE_ENVELOPE = "umbra-keyset-envelope/v1";

  private TrustPayloadTypes() {}
}
