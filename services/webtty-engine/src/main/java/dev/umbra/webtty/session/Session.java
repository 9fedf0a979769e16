package dev.umbra.webtty.session;

import dev.umbra.kit.bus.Subscription;
import dev.umbra.webtty.session.model.SessionModel;

/**
 * A session as its home instance (the one holding the server's connection) keeps it: the rules in
 * its {@link SessionModel}, and what only the home has — the server's connection, the session's bus
 * channel, its timer, whether its recording row exists. Confined to the event loop.
 */
final class Session {
  final SessionModel model;
  final ServerConn server;
  boolean stored;
  Subscription channel;
  long timer = -1;

  Session(SessionModel model, ServerConn server) {
    this.model = model;
    this.server = server;
  }

  String id() {
    return model.id();
  }
}
