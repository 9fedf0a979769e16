package dev.umbra.controlplane.workspaces;

import dev.umbra.kit.auth.Role;
import java.util.UUID;

/** The caller's membership in the workspace a request is about. */
public record Membership(UUID workspaceId, UUID memberId, UUID accountId, Role role) {}
