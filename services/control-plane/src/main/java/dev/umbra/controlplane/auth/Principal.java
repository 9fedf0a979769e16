package dev.umbra.controlplane.auth;

import java.util.UUID;

/** An authenticated caller: the account an API token belongs to, and the token's scope. */
public record Principal(UUID accountId, UUID tokenId, TokenScope scope) {}
