package dev.umbra.audit;

import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/** The audit service verticle. */
public final class AuditService extends UmbraService {

  public AuditService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    return Future.succeededFuture();
  }
}
