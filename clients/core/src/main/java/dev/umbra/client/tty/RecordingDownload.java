package dev.umbra.client.tty;

import dev.umbra.client.http.JsonHttp;
import dev.umbra.proto.api.WebTtyPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Downloads one recording's ciphertext from the WebTTY engine. The engine is outside the trust
 * boundary (DESIGN.md §1), so what it may make a client hold is bounded: a body over {@code
 * maxBytes} is refused while it arrives, never read whole first.
 */
public final class RecordingDownload {
  /** The default bound: far above a working day's terminal output, far below a laptop's memory. */
  public static final long MAX_BYTES = 512L * 1024 * 1024;

  private RecordingDownload() {}

  /** Why a download gave no recording; {@code status} is the engine's HTTP status, 0 if none. */
  public static final class Failure extends IOException {
    private final int status;

    Failure(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** {@code GET <engine>/v1/webtty/recordings/<session>?purpose=export} with a session token. */
  public static byte[] export(URI engine, String session, String bearer, long maxBytes)
      throws IOException, InterruptedException {
    return export(new JsonHttp(), engine, session, bearer, maxBytes);
  }

  /**
   * As {@link #export(URI, String, String, long)}, verifying an {@code https://} engine with {@code
   * http}'s trust and pin ({@code UMBRA_TLS_CA_FILE}, {@code UMBRA_TLS_PIN}), as every call.
   */
  public static byte[] export(
      JsonHttp http, URI engine, String session, String bearer, long maxBytes)
      throws IOException, InterruptedException {
    URI url =
        JsonHttp.resolve(
            engine.toString(), WebTtyPaths.RECORDINGS + "/" + session + "?purpose=export");
    HttpResponse<InputStream> resp =
        http.client()
            .send(
                HttpRequest.newBuilder(url)
                    .header("Authorization", "Bearer " + bearer)
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = resp.body()) {
      if (resp.statusCode() != 200) {
        throw new Failure(resp.statusCode(), "HTTP " + resp.statusCode());
      }
      long declared = resp.headers().firstValueAsLong("content-length").orElse(-1);
      if (declared > maxBytes) {
        throw tooLarge(maxBytes);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) != -1; ) {
        if (out.size() + (long) n > maxBytes) {
          throw tooLarge(maxBytes);
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  private static Failure tooLarge(long maxBytes) {
    String bound =
        maxBytes >= 1024 * 1024 ? maxBytes / (1024 * 1024) + " MiB" : maxBytes + " bytes";
    return new Failure(0, "the recording is larger than " + bound + "; refused unread");
  }
}
