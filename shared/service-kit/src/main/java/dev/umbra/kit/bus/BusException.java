package dev.umbra.kit.bus;

/** The bus could not do what was asked (unreachable, closed, or refused by the server). */
public final class BusException extends RuntimeException {
  public BusException(String message) {
    super(message);
  }

  public BusException(String message, Throwable cause) {
    super(message, cause);
  }
}
