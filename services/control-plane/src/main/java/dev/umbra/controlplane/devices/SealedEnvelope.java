package dev.umbra.controlplane.devices;

/** The workspace key sealed to one recipient (a device or a Recovery Kit) for a keyset version. */
record SealedEnvelope(int keysetVersion, String envelope) {
  /** Who an envelope is sealed to, as stored in {@code keyset_envelopes.recipient_kind}. */
  enum Recipient {
    DEVICE("device"),
    RECOVERY_KIT("recovery");

    final String column;

    Recipient(String column) {
      this.column = column;
    }
  }
}
