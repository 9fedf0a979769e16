package dev.umbra.crypto;

/**
 * Every protocol constant and domain-separation string of Umbra's cryptography, in one place. The
 * exact byte layouts built from these are described in {@code docs/crypto.md} and in DESIGN.md §5;
 * changing any value here is a wire-format break.
 */
public final class CryptoConstants {
  private CryptoConstants() {}

  // ---- WebTTY (DESIGN.md §5) ----
  /** Prefix hashed (raw, not length-prefixed) before an X25519 public key to derive a key id. */
  public static final String WEBTTY_KEY_ID_DOMAIN = "umbra-webtty-key-id/v1";

  /**
   * First element of the HPKE info and aad of a WebTTY key grant (v2: the key's role, output or
   * input, is bound too). The v1 string {@code umbra-webtty-key/v1} is retired: nothing accepts it.
   */
  public static final String WEBTTY_KEY_DOMAIN = "umbra-webtty-key/v2";

  /**
   * First element of the AAD of every WebTTY payload (v2: key role, sender key id and counter are
   * bound too). The v1 string {@code umbra-webtty-payload/v1} is retired: v1 payloads fail to open.
   */
  public static final String WEBTTY_PAYLOAD_DOMAIN = "umbra-webtty-payload/v2";

  /** {@code type} of the daemon-signed grant of a fresh input key to a new controller. */
  public static final String WEBTTY_INPUT_KEY_GRANT_TYPE = "umbra-webtty-input-key/v2";

  /**
   * {@code type} of the daemon-signed output-key epoch: a fresh output key and a key context with
   * recipients added to a live session ({@code umbra tty share}).
   */
  public static final String WEBTTY_OUTPUT_KEY_EPOCH_TYPE = "umbra-webtty-output-key/v2";

  /** WebTTY payload suite: AES-256-GCM, 96-bit random nonce, 128-bit tag. */
  public static final String SUITE_AES_256_GCM = "aes-256-gcm";

  /**
   * WebTTY key envelope suite: HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
   * AES-256-GCM.
   */
  public static final String SUITE_HPKE_X25519_HKDF_SHA256_AES_256_GCM =
      "hpke-x25519-hkdf-sha256-aes-256-gcm";

  /** Length in bytes of a WebTTY key id (truncated SHA-256). */
  public static final int WEBTTY_KEY_ID_LENGTH = 16;

  /** Length in bytes of a WebTTY payload key id (random). */
  public static final int WEBTTY_PAYLOAD_KEY_ID_LENGTH = 16;

  /**
   * {@code type} of a WebTTY server policy document (docs/webtty.md, "Server policy"): canonical
   * JSON signed by a trusted device's Ed25519 key, verified by the daemon against its pinned trust.
   */
  public static final String WEBTTY_POLICY_TYPE = "umbra-webtty-policy/v1";

  /**
   * First line of the message a machine signs to fetch its WebTTY policy ({@code POST
   * /v1/machine-tty-policy}).
   */
  public static final String MACHINE_TTY_POLICY_REQUEST = "umbra-machine-tty-policy/v1";

  // ---- Owner <-> agent messaging: X3DH + Double Ratchet (docs/messaging-crypto.md) ----
  /**
   * Version byte that opens every messaging encoding (bundle, initial message, header, state,
   * sealed state).
   */
  public static final int MSG_VERSION = 1;

  /**
   * Domain (length-prefixed) of the Ed25519 signature binding an X25519 identity key to an Ed25519
   * identity.
   */
  public static final String MSG_IDENTITY_BINDING_DOMAIN = "umbra-msg-identity/v1";

  /** Domain (length-prefixed) of the Ed25519 signature over a signed prekey. */
  public static final String MSG_SIGNED_PREKEY_DOMAIN = "umbra-msg-signed-prekey/v1";

  /**
   * HKDF-SHA256 info of the X3DH key derivation (salt: 32 zero bytes, ikm: 32 0xFF bytes ||
   * DH1..DH4).
   */
  public static final String MSG_X3DH_INFO = "umbra-msg-x3dh/v1";

  /**
   * HKDF-SHA256 info of the Double Ratchet root KDF (salt: root key, ikm: DH output, 64 bytes out).
   */
  public static final String MSG_RATCHET_ROOT_INFO = "umbra-msg-ratchet-root/v1";

  /**
   * HKDF-SHA256 info turning a message key into an XChaCha20-Poly1305 key and nonce (56 bytes out).
   */
  public static final String MSG_MESSAGE_KEY_INFO = "umbra-msg-message-key/v1";

  /** Domain (length-prefixed, then the state id) of the AAD of a session state sealed at rest. */
  public static final String MSG_STATE_SEAL_DOMAIN = "umbra-msg-state/v1";

  /**
   * Most message keys one received message may make the receiver skip in one chain (Double Ratchet
   * MAX_SKIP).
   */
  public static final int MSG_MAX_SKIP = 1000;

  /** Most skipped message keys a session keeps in total; beyond it the oldest are deleted. */
  public static final int MSG_MAX_SKIPPED_KEYS = 2000;

  /** Age after which a skipped message key is deleted unused (30 days). */
  public static final long MSG_SKIPPED_KEY_MAX_AGE_SECONDS = 30L * 24 * 3600;

  /**
   * Receiving ratchet keys a session remembers after their chain closed, to name a replay as one.
   */
  public static final int MSG_MAX_RETIRED_CHAINS = 16;

  /** Largest plaintext of one message (1 MiB). */
  public static final int MSG_MAX_PLAINTEXT_LENGTH = 1 << 20;

  /** Longest validity window of a signed prekey (rotation every 7 days is the recommended use). */
  public static final long MSG_SIGNED_PREKEY_MAX_LIFETIME_SECONDS = 35L * 24 * 3600;

  /** Most signed prekeys a device holds (the current one and those kept after rotation). */
  public static final int MSG_MAX_SIGNED_PREKEYS_HELD = 16;

  /** Most unused one-time prekeys a device holds. */
  public static final int MSG_MAX_ONE_TIME_PREKEYS_HELD = 10_000;

  /** Most accepted initial-message ephemeral keys remembered per signed prekey (rotate before). */
  public static final int MSG_MAX_SEEN_EPHEMERALS_PER_SIGNED_PREKEY = 100_000;

  /** Clock skew tolerated on a signed prekey's creation time. */
  public static final long MSG_CLOCK_SKEW_SECONDS = 300;

  // ---- Workspace key envelopes ----
  /** HKDF info of a workspace key envelope. */
  public static final String WORKSPACE_KEY_ENVELOPE_INFO = "umbra.workspace_key_envelope.v1";

  /** Suite string recorded in every workspace key envelope. */
  public static final String SUITE_WORKSPACE_KEY_ENVELOPE = "p256-ecdh-hkdf-sha256-aes-256-gcm";

  /** Length of the random HKDF salt of a workspace key envelope. */
  public static final int WORKSPACE_KEY_ENVELOPE_SALT_LENGTH = 32;

  // ---- Noise (DESIGN.md §4) ----
  public static final String NOISE_IK = "Noise_IK_25519_AESGCM_SHA256";
  public static final String NOISE_IKPSK2 = "Noise_IKpsk2_25519_AESGCM_SHA256";

  /** First element of the relay channel's Noise prologue (see {@code RelayPrologue}). */
  public static final String NOISE_PROLOGUE_DOMAIN = "umbra-relay-noise/v1";

  /** Largest Noise transport message (ciphertext incl. tag), per the Noise spec. */
  public static final int NOISE_MAX_MESSAGE_LENGTH = 65535;

  /**
   * Umbra's transport rekey interval: each direction's cipher is rekeyed (Noise {@code Rekey()})
   * after every this-many messages, so no key protects 2^32 messages.
   */
  public static final long NOISE_REKEY_INTERVAL = 1L << 31;

  // ---- Relay mesh link proof (docs/relay.md, "Mesh link authentication") ----
  /**
   * HKDF info of the mesh key derived from the internal credential, and the first (length-prefixed)
   * element of every mesh proof's MAC input: a mesh proof is worthless on any other route.
   */
  public static final String RELAY_MESH_PROOF_DOMAIN = "umbra-relay-mesh/v1";

  /** Length of the random nonce of a mesh proof. */
  public static final int RELAY_MESH_NONCE_LENGTH = 16;

  /** Length of a mesh proof's MAC (keyed BLAKE2b-256). */
  public static final int RELAY_MESH_MAC_LENGTH = 32;

  /** How far a mesh proof's time may be from the acceptor's clock, either way. */
  public static final long RELAY_MESH_PROOF_WINDOW_SECONDS = 30;

  // ---- Sealed bus notices (docs/webtty.md and docs/relay.md, "Takeover notices on the bus") ----
  /**
   * HKDF info and first MAC element of a control-plane instance's message notice (on {@code
   * umbra.msg.r.<workspace>.<recipient>}, docs/messaging.md, "Notices on the bus"): sealed as the
   * takeovers are, under its own key.
   */
  public static final String MESSAGE_NOTICE_DOMAIN = "umbra-msg-notice/v1";

  /**
   * HKDF info and first MAC element of a WebTTY engine's takeover notice ({@code
   * umbra.webtty.takeovers}): one domain per message type, so no notice verifies as another.
   */
  public static final String WEBTTY_TAKEOVER_DOMAIN = "umbra-webtty-takeover/v1";

  /**
   * HKDF info and first MAC element of a relay instance's takeover notice (a daemon registered: on
   * its target's topic and on {@code umbra.relay.routes}).
   */
  public static final String RELAY_TAKEOVER_DOMAIN = "umbra-relay-takeover/v1";

  /**
   * First byte of a sealed notice's bus body ({@code version || u64be(millis) || mac || notice}).
   */
  public static final byte BUS_SEAL_VERSION = 1;

  /** Length of a sealed notice's MAC (keyed BLAKE2b-256). */
  public static final int BUS_SEAL_MAC_LENGTH = 32;

  /** How far a sealed notice's time may be from the receiver's clock, either way. */
  public static final long BUS_SEAL_WINDOW_MILLIS = 30_000;

  // ---- Symmetric primitives ----
  public static final int AES_256_KEY_LENGTH = 32;
  public static final int GCM_NONCE_LENGTH = 12;
  public static final int AEAD_TAG_LENGTH = 16;
  public static final int XCHACHA20_NONCE_LENGTH = 24;
  public static final int CHACHA20_KEY_LENGTH = 32;

  // ---- Key sizes ----
  public static final int X25519_KEY_LENGTH = 32;
  public static final int ED25519_KEY_LENGTH = 32;
  public static final int ED25519_SIGNATURE_LENGTH = 64;
  public static final int P256_SCALAR_LENGTH = 32;
  public static final int P256_UNCOMPRESSED_POINT_LENGTH = 65;
  public static final int ECDSA_P256_SIGNATURE_LENGTH = 64;

  // ---- Secret hashing (DESIGN.md §8) ----
  /**
   * Argon2id cost, OWASP Password Storage Cheat Sheet (2025): m = 19 MiB, t = 2, p = 1 is the
   * minimum recommended configuration; these are the defaults and the floor below which {@code
   * needsRehash} answers true.
   */
  public static final int ARGON2ID_MEMORY_KIB = 19 * 1024;

  public static final int ARGON2ID_ITERATIONS = 2;
  public static final int ARGON2ID_PARALLELISM = 1;
  public static final int ARGON2ID_SALT_LENGTH = 16;
  public static final int ARGON2ID_HASH_LENGTH = 32;

  /** Upper bounds accepted when verifying an encoded hash, so a stored hash cannot be a DoS. */
  public static final int ARGON2ID_MAX_MEMORY_KIB = 1024 * 1024;

  public static final int ARGON2ID_MAX_ITERATIONS = 64;
  public static final int ARGON2ID_MAX_PARALLELISM = 16;
  public static final int BLAKE2B_256_LENGTH = 32;

  // ---- Canonical JSON (DESIGN.md §7) ----
  /** Largest integer magnitude allowed in canonical JSON: 2^53 - 1. */
  public static final long CANONICAL_JSON_MAX_SAFE_INTEGER = 9_007_199_254_740_991L;

  /** Deepest nesting of arrays/objects accepted by the canonical JSON parser. */
  public static final int CANONICAL_JSON_MAX_DEPTH = 64;

  // ---- Verification codes (DESIGN.md §7) ----
  /** Domain prefix (length-prefixed) hashed before the canonical payload of a verification code. */
  public static final String VERIFICATION_CODE_DOMAIN = "umbra-verification-code/v1";

  /**
   * Bits in a verification code: 80 (16 Crockford base32 characters), above the 64-bit floor of §7.
   */
  public static final int VERIFICATION_CODE_BITS = 80;

  // ---- Key files (DESIGN.md §1, §8) ----
  public static final String UMBRA_HOME_ENV = "UMBRA_HOME";
  public static final String UMBRA_HOME_DEFAULT_DIR = ".umbra";
  public static final String KEY_FILE_FORMAT = "umbra-key/v1";
}
