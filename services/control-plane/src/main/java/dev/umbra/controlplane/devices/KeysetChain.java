package dev.umbra.controlplane.devices;

import java.util.List;

/** Every keyset of a workspace, oldest first, and the newest version (null when none). */
record KeysetChain(List<SignedDoc> keysets, Integer currentVersion) {}
