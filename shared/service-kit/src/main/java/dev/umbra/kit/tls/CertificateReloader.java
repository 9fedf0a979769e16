package dev.umbra.kit.tls;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads a TLS listener's certificate, key and client CA every {@link ServiceTls#reloadEvery}
 * and, when their content changed, hands them to the running server ({@code
 * HttpServer.updateSSLOptions}): new connections get the new certificate, open ones keep theirs,
 * nothing restarts. A pair that does not load (a certificate renewed before its key was written) is
 * logged and tried again at the next check; the server keeps the last good one meanwhile.
 */
public final class CertificateReloader {
  private static final Logger log = LoggerFactory.getLogger(CertificateReloader.class);

  private final Vertx vertx;
  private final ServiceTls tls;
  private final HttpServer server;
  private final String service;
  private ServiceTls.Material loaded;
  private long timer = -1;
  private boolean checking;

  public CertificateReloader(
      Vertx vertx, ServiceTls tls, HttpServer server, String service, ServiceTls.Material loaded) {
    this.vertx = vertx;
    this.tls = tls;
    this.server = server;
    this.service = service;
    this.loaded = loaded;
  }

  public void start() {
    timer = vertx.setPeriodic(tls.reloadEvery().toMillis(), id -> check());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One check: reload when the files' content changed (completes when done). */
  public Future<Boolean> check() {
    if (checking) {
      return Future.succeededFuture(false);
    }
    checking = true;
    return tls.read(vertx)
        .compose(
            m -> {
              if (m.sameAs(loaded)) {
                return Future.succeededFuture(false);
              }
              return server
                  .updateSSLOptions(tls.sslOptions(m), true)
                  .map(
                      updated -> {
                        loaded = m;
                        log.info("{}: TLS certificate reloaded", service);
                        return updated;
                      });
            })
        .onFailure(e -> log.warn("{}: TLS certificate not reloaded: {}", service, e.getMessage()))
        .eventually(
            () -> {
              checking = false;
              return Future.succeededFuture();
            });
  }
}
