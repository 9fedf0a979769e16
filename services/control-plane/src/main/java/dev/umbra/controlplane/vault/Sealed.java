package dev.umbra.controlplane.vault;

/**
 * Ciphertext sealed on a client for the vault: an entry or a candidate, by name, under a keyset
 * version.
 */
record Sealed(String name, int keysetVersion, byte[] enc, byte[] ciphertext) {}
