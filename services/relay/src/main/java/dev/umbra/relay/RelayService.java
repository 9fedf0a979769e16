package dev.umbra.relay;

import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/** The relay service verticle. */
public final class RelayService extends UmbraService {

  public RelayService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    return Future.succeededFuture();
  }
}
