package dev.umbra.kit.db;

/** PostgreSQL could not be reached, migrated or used; the message says what to do. */
public final class DatabaseException extends RuntimeException {
  public DatabaseException(String message, Throwable cause) {
    super(message, cause);
  }
}
