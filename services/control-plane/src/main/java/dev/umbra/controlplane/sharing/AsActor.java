package dev.umbra.controlplane.sharing;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.function.BiFunction;

/**
 * One request's way to run work in its workspace as its checked {@link Actor} ({@link
 * WorkAccess#of}); {@code write}: the credential must allow writing. Services take this instead of
 * the HTTP request.
 */
@FunctionalInterface
public interface AsActor {
  <T> Future<T> run(boolean write, BiFunction<SqlConnection, Actor, Future<T>> work);

  /** A value with the actor that produced it, so an audit event is emitted after the commit. */
  record Done<T>(T value, Actor actor) {}
}
