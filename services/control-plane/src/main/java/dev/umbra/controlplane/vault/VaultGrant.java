package dev.umbra.controlplane.vault;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A machine's access to the vault: the vault keys HPKE-sealed to it under a keyset version. */
record VaultGrant(
    UUID machineId, int keysetVersion, OffsetDateTime createdAt, byte[] enc, byte[] ciphertext) {
  /** What a machine's read answers: its grant and the entry. */
  record MachineRead(VaultGrant grant, VaultEntry entry) {}
}
