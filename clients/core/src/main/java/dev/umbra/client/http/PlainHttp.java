package dev.umbra.client.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange over a plain TCP connection, for {@code http://} URLs only (the JDK's
 * client sets up TLS — trust store, SSL context — even for plain URLs, which was a tenth of a short
 * CLI command; docs/cli.md, "Start-up"). One request per connection ({@code Connection: close});
 * redirects are not followed (a 3xx is an answer like any other, as with the JDK client).
 *
 * <p>What the server sends is bounded and checked before it is used: the status line and headers
 * together at most {@link #MAX_HEAD_BYTES}, at most {@link #MAX_HEADERS} header lines, the body at
 * most the caller's limit whether framed by {@code Content-Length}, chunked or by the end of the
 * connection; conflicting framing, a malformed status line, header or chunk, and a body shorter
 * than announced are refused ({@link Refused} with its {@link Reason}). Every read waits at most
 * until the exchange's deadline.
 */
public final class PlainHttp {
  /** Status line and headers together. */
  public static final int MAX_HEAD_BYTES = 64 * 1024;

  /** Header lines of one response. */
  public static final int MAX_HEADERS = 100;

  private PlainHttp() {}

  /** A status and the body's bytes. */
  public record Response(int status, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Why a response was refused. */
  public enum Reason {
    /** Not HTTP/1.x as RFC 9112 writes it: status line, header, chunk size, conflicting framing. */
    MALFORMED,
    /** Head or body over its limit. */
    OVERSIZED,
    /** The connection ended before the response did. */
    TRUNCATED
  }

  /** A response this client does not accept. */
  public static final class Refused extends IOException {
    private static final long serialVersionUID = 1L;
    private final Reason reason;

    Refused(Reason reason, String message) {
      super(message);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /**
   * Sends {@code method url} with {@code headers} (Host, Connection and Content-Length are set
   * here) and {@code body} (null: none) and reads the answer; the whole exchange ends by {@code
   * timeout} after the start, the connection by {@code connectTimeout}.
   */
  public static Response exchange(
      String method,
      URI url,
      Map<String, String> headers,
      byte[] body,
      Duration connectTimeout,
      Duration timeout,
      int maxBody)
      throws IOException {
    if (!"http".equalsIgnoreCase(url.getScheme()) || url.getHost() == null) {
      throw new IllegalArgumentException("not an http:// URL: " + url);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    int port = url.getPort() < 0 ? 80 : url.getPort();
    String target =
        (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
            + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    StringBuilder head =
        new StringBuilder(256)
            .append(method)
            .append(' ')
            .append(target)
            .append(" HTTP/1.1\r\n")
            .append("Host: ")
            .append(url.getRawAuthority().replaceFirst("^.*@", ""))
            .append("\r\n")
            .append("Connection: close\r\n");
    for (Map.Entry<String, String> h : headers.entrySet()) {
      if (h.getKey().indexOf('\r') >= 0
          || h.getKey().indexOf('\n') >= 0
          || h.getValue().indexOf('\r') >= 0
          || h.getValue().indexOf('\n') >= 0) {
        throw new IllegalArgumentException("a header with a line break");
      }
      head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(
          new InetSocketAddress(url.getHost(), port),
          (int) Math.max(1, Math.min(connectTimeout.toMillis(), remaining(deadline))));
      OutputStream out = socket.getOutputStream();
      byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
      if (body == null) {
        out.write(h);
      } else {
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        out.write(all);
      }
      out.flush();
      return read(new Reader(socket, deadline), method, maxBody);
    } catch (SocketTimeoutException e) {
      throw new SocketTimeoutException("no complete answer within " + timeout.toSeconds() + " s");
    }
  }

  private static long remaining(long deadline) throws SocketTimeoutException {
    long ms = (deadline - System.nanoTime()) / 1_000_000;
    if (ms <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    return ms;
  }

  /** Reads one response from {@code in} (visible for the tests, which feed it bytes). */
  static Response read(Source in, String method, int maxBody) throws IOException {
    int[] headBudget = {MAX_HEAD_BYTES};
    while (true) {
      String status = in.line(headBudget);
      if (status == null) {
        throw new Refused(Reason.TRUNCATED, "the connection closed before an HTTP response");
      }
      // HTTP/1.1 200 OK  (the reason phrase may be empty or absent)
      if (!status.matches("HTTP/1\\.[01] [0-9]{3}( .*)?")) {
        throw new Refused(Reason.MALFORMED, "not an HTTP/1.x status line");
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long contentLength = -1;
      boolean chunked = false;
      boolean sawTransferEncoding = false;
      int count = 0;
      while (true) {
        String line = in.line(headBudget);
        if (line == null) {
          throw new Refused(Reason.TRUNCATED, "the connection closed in the response headers");
        }
        if (line.isEmpty()) {
          break;
        }
        if (++count > MAX_HEADERS) {
          throw new Refused(Reason.OVERSIZED, "more than " + MAX_HEADERS + " response headers");
        }
        int colon = line.indexOf(':');
        if (colon <= 0
            || line.charAt(0) == ' '
            || line.charAt(0) == '\t'
            || !line.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
          throw new Refused(Reason.MALFORMED, "a malformed response header");
        }
        String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).strip();
        if (name.equals("content-length")) {
          if (!value.matches("[0-9]{1,18}")) {
            throw new Refused(Reason.MALFORMED, "a malformed Content-Length");
          }
          long n = Long.parseLong(value);
          if (contentLength >= 0 && contentLength != n) {
            throw new Refused(Reason.MALFORMED, "conflicting Content-Length headers");
          }
          contentLength = n;
        } else if (name.equals("transfer-encoding")) {
          if (sawTransferEncoding || !value.equalsIgnoreCase("chunked")) {
            throw new Refused(Reason.MALFORMED, "a Transfer-Encoding other than chunked");
          }
          sawTransferEncoding = true;
          chunked = true;
        }
      }
      if (code >= 100 && code < 200) {
        continue; // an interim answer (100 Continue, 103 Early Hints): the real one follows
      }
      if (chunked && contentLength >= 0) {
        throw new Refused(Reason.MALFORMED, "both Content-Length and chunked");
      }
      if (method.equals("HEAD") || code == 204 || code == 304) {
        return new Response(code, new byte[0]);
      }
      if (chunked) {
        return new Response(code, chunked(in, headBudget, maxBody));
      }
      if (contentLength >= 0) {
        if (contentLength > maxBody) {
          throw new Refused(Reason.OVERSIZED, "a body over " + maxBody + " bytes");
        }
        return new Response(code, in.exactly((int) contentLength));
      }
      return new Response(code, in.untilEnd(maxBody));
    }
  }

  private static byte[] chunked(Source in, int[] headBudget, int maxBody) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = in.line(headBudget);
      if (size == null) {
        throw new Refused(Reason.TRUNCATED, "the connection closed in a chunked body");
      }
      int semi = size.indexOf(';'); // chunk extensions are ignored
      String hex = (semi >= 0 ? size.substring(0, semi) : size).strip();
      if (!hex.matches("[0-9A-Fa-f]{1,8}")) {
        throw new Refused(Reason.MALFORMED, "a malformed chunk size");
      }
      long n = Long.parseLong(hex, 16);
      if (n == 0) {
        while (true) { // trailers, up to the empty line
          String trailer = in.line(headBudget);
          if (trailer == null) {
            throw new Refused(Reason.TRUNCATED, "the connection closed in the chunked trailers");
          }
          if (trailer.isEmpty()) {
            return body.toByteArray();
          }
        }
      }
      if (body.size() + n > maxBody) {
        throw new Refused(Reason.OVERSIZED, "a body over " + maxBody + " bytes");
      }
      body.write(in.exactly((int) n));
      String end = in.line(headBudget);
      if (end == null) {
        throw new Refused(Reason.TRUNCATED, "the connection closed in a chunked body");
      }
      if (!end.isEmpty()) {
        throw new Refused(Reason.MALFORMED, "a chunk longer than its size");
      }
    }
  }

  /** Where a response's bytes come from. */
  interface Source {
    /**
     * The next line without its CRLF (a bare LF is accepted), charged to {@code budget}; null at a
     * clean end.
     */
    String line(int[] budget) throws IOException;

    byte[] exactly(int n) throws IOException;

    byte[] untilEnd(int max) throws IOException;
  }

  /** A buffered {@link Source} over an input stream; reads wait at most until the deadline. */
  static class Reader implements Source {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;
    private final byte[] buf = new byte[8192];
    private int start;
    private int end;
    private boolean eof;

    Reader(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.deadline = deadline;
    }

    Reader(InputStream in) {
      this.socket = null;
      this.in = in;
      this.deadline = Long.MAX_VALUE;
    }

    private boolean fill() throws IOException {
      if (eof) {
        return false;
      }
      if (socket != null) {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining(deadline)));
      }
      int n = in.read(buf, 0, buf.length);
      if (n < 0) {
        eof = true;
        return false;
      }
      start = 0;
      end = n;
      return true;
    }

    @Override
    public String line(int[] budget) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream(64);
      while (true) {
        if (start == end && !fill()) {
          if (line.size() == 0) {
            return null;
          }
          throw new Refused(Reason.TRUNCATED, "the connection closed in the middle of a line");
        }
        byte b = buf[start++];
        if (--budget[0] < 0) {
          throw new Refused(
              Reason.OVERSIZED, "response head or chunk lines over " + MAX_HEAD_BYTES + " bytes");
        }
        if (b == '\n') {
          byte[] l = line.toByteArray();
          int len = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
          return new String(l, 0, len, StandardCharsets.ISO_8859_1);
        }
        line.write(b);
      }
    }

    @Override
    public byte[] exactly(int n) throws IOException {
      byte[] out = new byte[n];
      int got = 0;
      while (got < n) {
        if (start == end && !fill()) {
          throw new Refused(
              Reason.TRUNCATED, "the connection closed after " + got + " of " + n + " body bytes");
        }
        int k = Math.min(n - got, end - start);
        System.arraycopy(buf, start, out, got, k);
        start += k;
        got += k;
      }
      return out;
    }

    @Override
    public byte[] untilEnd(int max) throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      while (start < end || fill()) {
        if (out.size() + (end - start) > max) {
          throw new Refused(Reason.OVERSIZED, "a body over " + max + " bytes");
        }
        out.write(buf, start, end - start);
        start = end;
      }
      return out.toByteArray();
    }
  }
}
