package dev.umbra.kit.auth;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * What a verified session token says: the workspace, who (account id of a member or machine id),
 * their role, the one service it is for, when it was issued and stops being valid, and what it was
 * minted with (the API token, and the trusted device with its credential's keyset version when the
 * session was bound to one), which is what revocations match on (docs/security.md, "Revocation").
 *
 * @param apiTokenId the API token that minted a member's session ({@code tid}); empty for machines
 * @param deviceId the trusted device the session is bound to ({@code did}); empty when unbound
 * @param keysetVersion the keyset version of that device's credential ({@code ksv}); 0 when unbound
 */
public record SessionClaims(
    UUID workspaceId,
    String subject,
    SubjectKind subjectKind,
    Role role,
    String audience,
    String tokenId,
    Instant issuedAt,
    Instant expiresAt,
    Optional<String> apiTokenId,
    Optional<String> deviceId,
    int keysetVersion) {}
