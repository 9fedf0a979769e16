package dev.umbra.kit.metrics;

import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

/**
 * Wraps Vert.x's Micrometer metrics so a connection without a socket metric cannot break HTTP.
 *
 * <p>Why: in Vert.x 5.0.7 a connection accepted in the instant between a server's bind and the
 * assignment of its metrics gets no socket metric, yet its requests are later reported with that
 * null metric; Micrometer's {@code requestBegin} then throws and the request is never answered
 * (seen as a health probe hanging right after start, and once in CI). Calls about such a
 * connection, or about a request that never got a metric, are skipped here; everything else goes to
 * Micrometer unchanged.
 */
final class GuardedMetricsFactory implements VertxMetricsFactory {
  private final VertxMetricsFactory delegate;

  GuardedMetricsFactory(VertxMetricsFactory delegate) {
    this.delegate = delegate;
  }

  @Override
  public VertxMetrics metrics(VertxOptions options) {
    return new GuardedVertxMetrics(delegate.metrics(options));
  }

  @Override
  public MetricsOptions newOptions() {
    return delegate.newOptions();
  }

  @Override
  public MetricsOptions newOptions(MetricsOptions options) {
    return delegate.newOptions(options);
  }

  @Override
  public MetricsOptions newOptions(JsonObject json) {
    return delegate.newOptions(json);
  }

  private record GuardedVertxMetrics(VertxMetrics delegate) implements VertxMetrics {
    @Override
    public EventBusMetrics createEventBusMetrics() {
      return delegate.createEventBusMetrics();
    }

    @Override
    @SuppressWarnings("unchecked")
    public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(
        HttpServerOptions options, SocketAddress localAddress) {
      HttpServerMetrics<?, ?, ?> m = delegate.createHttpServerMetrics(options, localAddress);
      return m == null
          ? null
          : new GuardedHttpServerMetrics((HttpServerMetrics<Object, Object, Object>) m);
    }

    @Override
    public ClientMetrics<?, ?, ?> createClientMetrics(
        SocketAddress remoteAddress, String type, String namespace) {
      return delegate.createClientMetrics(remoteAddress, type, namespace);
    }

    @Override
    public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions options) {
      return delegate.createHttpClientMetrics(options);
    }

    @Override
    public TCPMetrics<?> createNetServerMetrics(
        NetServerOptions options, SocketAddress localAddress) {
      return delegate.createNetServerMetrics(options, localAddress);
    }

    @Override
    public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
      return delegate.createNetClientMetrics(options);
    }

    @Override
    public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
      return delegate.createDatagramSocketMetrics(options);
    }

    @Override
    public PoolMetrics<?, ?> createPoolMetrics(String type, String name, int maxSize) {
      return delegate.createPoolMetrics(type, name, maxSize);
    }

    @Override
    public void vertxCreated(io.vertx.core.Vertx vertx) {
      delegate.vertxCreated(vertx);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  /** Every callback about a missing socket, request or WebSocket metric is a no-op. */
  record GuardedHttpServerMetrics(HttpServerMetrics<Object, Object, Object> delegate)
      implements HttpServerMetrics<Object, Object, Object> {
    @Override
    public Object requestBegin(Object socketMetric, HttpRequest request) {
      return socketMetric == null ? null : delegate.requestBegin(socketMetric, request);
    }

    @Override
    public void requestEnd(Object requestMetric, HttpRequest request, long bytesRead) {
      if (requestMetric != null) {
        delegate.requestEnd(requestMetric, request, bytesRead);
      }
    }

    @Override
    public void requestReset(Object requestMetric) {
      if (requestMetric != null) {
        delegate.requestReset(requestMetric);
      }
    }

    @Override
    public void responseBegin(Object requestMetric, HttpResponse response) {
      if (requestMetric != null) {
        delegate.responseBegin(requestMetric, response);
      }
    }

    @Override
    public Object responsePushed(
        Object socketMetric, HttpMethod method, String uri, HttpResponse response) {
      return socketMetric == null
          ? null
          : delegate.responsePushed(socketMetric, method, uri, response);
    }

    @Override
    public void responseEnd(Object requestMetric, HttpResponse response, long bytesWritten) {
      if (requestMetric != null) {
        delegate.responseEnd(requestMetric, response, bytesWritten);
      }
    }

    @Override
    public Object connected(
        Object socketMetric, Object requestMetric, ServerWebSocket serverWebSocket) {
      return socketMetric == null
          ? null
          : delegate.connected(socketMetric, requestMetric, serverWebSocket);
    }

    @Override
    public void disconnected(Object serverWebSocketMetric) {
      if (serverWebSocketMetric != null) {
        delegate.disconnected(serverWebSocketMetric);
      }
    }

    @Override
    public void requestRouted(Object requestMetric, String route) {
      if (requestMetric != null) {
        delegate.requestRouted(requestMetric, route);
      }
    }

    @Override
    public Object connected(SocketAddress remoteAddress, String remoteName) {
      return delegate.connected(remoteAddress, remoteName);
    }

    @Override
    public void disconnected(Object socketMetric, SocketAddress remoteAddress) {
      if (socketMetric != null) {
        delegate.disconnected(socketMetric, remoteAddress);
      }
    }

    @Override
    public void bytesRead(Object socketMetric, SocketAddress remoteAddress, long numberOfBytes) {
      if (socketMetric != null) {
        delegate.bytesRead(socketMetric, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void bytesWritten(Object socketMetric, SocketAddress remoteAddress, long numberOfBytes) {
      if (socketMetric != null) {
        delegate.bytesWritten(socketMetric, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void exceptionOccurred(Object socketMetric, SocketAddress remoteAddress, Throwable t) {
      if (socketMetric != null) {
        delegate.exceptionOccurred(socketMetric, remoteAddress, t);
      }
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
