package dev.umbra.kit.auth;

import java.time.Instant;
import java.util.UUID;

/**
 * What a verified session token says: the workspace, who (account id of a member or machine id),
 * their role, the one service it is for, and when it stops being valid.
 */
public record SessionClaims(
    UUID workspaceId,
    String subject,
    SubjectKind subjectKind,
    Role role,
    String audience,
    String tokenId,
    Instant expiresAt) {}
