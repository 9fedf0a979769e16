package dev.umbra.bench.relay;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/** nginx (the Debian package) proxying WebSocket traffic to a backend, with a temporary config. */
final class Nginx implements AutoCloseable {
  final int port;
  private final Process process;

  private Nginx(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  static Nginx start(int backendPort, Path dir) throws Exception {
    Path binary = Path.of("/usr/sbin/nginx");
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException("nginx is not installed: apt-get install -y nginx");
    }
    int port = RelayProcess.freePort();
    Files.createDirectories(dir.resolve("logs"));
    String conf =
        """
        worker_processes 1;
        daemon off;
        pid %1$s/nginx.pid;
        error_log %1$s/logs/error.log warn;
        events { worker_connections 20000; }
        http {
          access_log off;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          map $http_upgrade $connection_upgrade { default upgrade; '' close; }
          upstream backend { server 127.0.0.1:%2$d; keepalive 64; }
          server {
            listen 127.0.0.1:%3$d;
            location / {
              proxy_pass http://backend;
              proxy_http_version 1.1;
              proxy_set_header Upgrade $http_upgrade;
              proxy_set_header Connection $connection_upgrade;
              proxy_read_timeout 3600s;
              proxy_send_timeout 3600s;
              proxy_buffering off;
              tcp_nodelay on;
            }
          }
        }
        """
            .formatted(dir, backendPort, port);
    Path file = dir.resolve("nginx.conf");
    Files.writeString(file, conf);
    Process p =
        new ProcessBuilder(binary.toString(), "-c", file.toString(), "-p", dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("logs/stdout.log").toFile())
            .start();
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new Nginx(port, p);
      } catch (IOException e) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "nginx exited: " + Files.readString(dir.resolve("logs/stdout.log")));
        }
        Thread.sleep(50);
      }
    }
    p.destroy();
    throw new IllegalStateException("nginx did not start");
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.destroy();
  }
}
