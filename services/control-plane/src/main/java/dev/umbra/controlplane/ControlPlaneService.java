package dev.umbra.controlplane;

import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/** The control-plane service verticle. */
public final class ControlPlaneService extends UmbraService {

  public ControlPlaneService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    return Future.succeededFuture();
  }
}
