package dev.umbra.pairing;

import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/** The pairing service verticle. */
public final class PairingService extends UmbraService {

  public PairingService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    return Future.succeededFuture();
  }
}
