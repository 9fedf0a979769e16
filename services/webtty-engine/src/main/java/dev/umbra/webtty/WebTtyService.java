package dev.umbra.webtty;

import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/** The webtty-engine service verticle. */
public final class WebTtyService extends UmbraService {

  public WebTtyService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    return Future.succeededFuture();
  }
}
