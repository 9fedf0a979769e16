package dev.umbra.client.channel;

import dev.umbra.client.http.ClientTls;
import dev.umbra.proto.api.WireVersions;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A minimal RFC 6455 WebSocket client for the relay connection of one-shot commands: binary
 * messages only, no extensions, over a plain socket ({@code ws://}) or the JDK's TLS socket with
 * host name verification ({@code wss://}). No event loop and no Netty: the Vert.x start-up was most
 * of a short {@code umbra run} (docs/cli.md, "Start-up").
 *
 * <p>What the relay sends is checked before it is used: the upgrade answer (status 101, the {@code
 * Sec-WebSocket-Accept} of our key, its head at most {@link #MAX_HEAD_BYTES}), and every frame (no
 * reserved bits, known opcodes, unmasked, control frames final and at most 125 bytes, a message at
 * most {@link #MAX_MESSAGE} bytes). A violation or a connection that ends inside a frame is a
 * {@link Refused} with its {@link Reason}; the connection is then unusable. Reads are done by one
 * thread ({@link #receive}); sends may come from any thread. {@link #accept} is the server's side
 * of the same framing, for the start-up cache's training relay and tests.
 */
public final class RelayWebSocket implements AutoCloseable {
  /** Largest message accepted (as the Vert.x client: the relay's frames are at most this). */
  public static final int MAX_MESSAGE = 128 * 1024;

  /** Status line and headers of the upgrade answer together. */
  public static final int MAX_HEAD_BYTES = 16 * 1024;

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final Object sending = new Object();

  /** The client masks what it sends and takes unmasked frames; the server the other way round. */
  private final boolean client;

  private volatile boolean closeSent;

  /** Why the relay's answer or a frame was refused. */
  public enum Reason {
    /**
     * The relay answered the upgrade with a status other than 101 (e.g. 401: the token was
     * refused).
     */
    UPGRADE_REFUSED,
    /** Not a WebSocket as RFC 6455 writes it: the upgrade answer or a frame. */
    MALFORMED,
    /** A head or a message over its limit. */
    OVERSIZED,
    /** The connection ended inside the upgrade answer or a frame. */
    TRUNCATED
  }

  /** The relay's answer is not acceptable; the connection is closed. */
  public static final class Refused extends IOException {
    private static final long serialVersionUID = 1L;
    private final Reason reason;
    private final int status;

    Refused(Reason reason, int status, String message) {
      super(message);
      this.reason = reason;
      this.status = status;
    }

    public Reason reason() {
      return reason;
    }

    /** The HTTP status of a refused upgrade; 0 otherwise. */
    public int status() {
      return status;
    }
  }

  private RelayWebSocket(Socket socket, InputStream in, boolean client) throws IOException {
    this.socket = socket;
    this.in = in;
    this.out = socket.getOutputStream();
    this.client = client;
  }

  /**
   * The server's side on an accepted {@code socket}: reads the upgrade request and answers 101. For
   * the CLI's start-up training relay and tests; the real relay is a Vert.x service.
   */
  public static RelayWebSocket accept(Socket socket) throws IOException {
    InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    int[] budget = {MAX_HEAD_BYTES};
    String key = null;
    line(in, budget); // GET <path> HTTP/1.1
    for (String line = line(in, budget); !line.isEmpty(); line = line(in, budget)) {
      if (line.regionMatches(true, 0, "sec-websocket-key:", 0, 18)) {
        key = line.substring(18).strip();
      }
    }
    if (key == null) {
      throw new Refused(Reason.MALFORMED, 0, "not a WebSocket upgrade request");
    }
    socket
        .getOutputStream()
        .write(
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: "
                    + expectedAccept(key)
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    return new RelayWebSocket(socket, in, false);
  }

  /**
   * Connects to {@code url} ({@code ws://} or {@code wss://}) with {@code Authorization: Bearer
   * token} and completes the upgrade, all within {@code timeout}.
   */
  public static RelayWebSocket connect(URI url, String token, Duration timeout) throws IOException {
    return connect(url, token, timeout, ClientTls.system());
  }

  /** As above, verifying a {@code wss://} relay with {@code trust} (a CA file, a pin). */
  public static RelayWebSocket connect(URI url, String token, Duration timeout, ClientTls trust)
      throws IOException {
    boolean tls = "wss".equalsIgnoreCase(url.getScheme());
    if (!tls && !"ws".equalsIgnoreCase(url.getScheme()) || url.getHost() == null) {
      throw new IllegalArgumentException("not a ws:// or wss:// URL: " + url);
    }
    if (token.indexOf('\r') >= 0 || token.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("a token with a line break");
    }
    int port = url.getPort() >= 0 ? url.getPort() : tls ? 443 : 80;
    int ms = (int) Math.max(1, timeout.toMillis());
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(url.getHost(), port), ms);
      if (tls) {
        SSLSocket s =
            (SSLSocket)
                trust
                    .sslContext()
                    .getSocketFactory()
                    .createSocket(socket, url.getHost(), port, true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        socket = s;
      }
      socket.setSoTimeout(ms);
      byte[] nonce = new byte[16];
      RANDOM.nextBytes(nonce);
      String key = Base64.getEncoder().encodeToString(nonce);
      String path =
          (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
              + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      String head =
          "GET "
              + path
              + " HTTP/1.1\r\n"
              + "Host: "
              + url.getRawAuthority().replaceFirst("^.*@", "")
              + "\r\n"
              + "Upgrade: websocket\r\n"
              + "Connection: Upgrade\r\n"
              + "Sec-WebSocket-Key: "
              + key
              + "\r\n"
              + "Sec-WebSocket-Version: 13\r\n"
              + WireVersions.HEADER
              + ": "
              + WireVersions.THIS_BUILD.header()
              + "\r\n"
              + "Authorization: Bearer "
              + token
              + "\r\n\r\n";
      OutputStream o = socket.getOutputStream();
      o.write(head.getBytes(StandardCharsets.US_ASCII));
      o.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      upgraded(in, expectedAccept(key));
      socket.setSoTimeout(0);
      return new RelayWebSocket(socket, in, true);
    } catch (SocketTimeoutException e) {
      socket.close();
      throw new SocketTimeoutException(
          "the relay did not answer within " + timeout.toSeconds() + " s");
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  static String expectedAccept(String key) {
    try {
      return Base64.getEncoder()
          .encodeToString(
              MessageDigest.getInstance("SHA-1")
                  .digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the upgrade answer: 101 with our accept value, else {@link Refused}. */
  static void upgraded(InputStream in, String accept) throws IOException {
    int[] budget = {MAX_HEAD_BYTES};
    String status = line(in, budget);
    if (!status.matches("HTTP/1\\.1 [0-9]{3}( .*)?")) {
      throw new Refused(Reason.MALFORMED, 0, "the relay did not answer as HTTP/1.1");
    }
    int code = Integer.parseInt(status.substring(9, 12));
    boolean upgrade = false;
    boolean connection = false;
    String gotAccept = null;
    String wire = null;
    for (String line = line(in, budget); !line.isEmpty(); line = line(in, budget)) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new Refused(Reason.MALFORMED, 0, "a malformed header in the relay's answer");
      }
      String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip();
      switch (name) {
        case "upgrade" -> upgrade = value.equalsIgnoreCase("websocket");
        case "connection" -> connection = value.toLowerCase(Locale.ROOT).contains("upgrade");
        case "sec-websocket-accept" -> gotAccept = value;
        case "umbra-wire" -> wire = value;
        case "sec-websocket-extensions" ->
            throw new Refused(
                Reason.MALFORMED, 0, "the relay chose a WebSocket extension not asked for");
        default -> {
          // not ours
        }
      }
    }
    if (code == WireVersions.REFUSED_STATUS) {
      // this build's wire versions refused: say both sides' and which to upgrade, never just 426
      throw new Refused(
          Reason.UPGRADE_REFUSED,
          code,
          "the relay refused the connection: "
              + WireVersions.refusal(WireVersions.THIS_BUILD, java.util.Optional.ofNullable(wire)));
    }
    if (code != 101) {
      throw new Refused(
          Reason.UPGRADE_REFUSED,
          code,
          code == 401 || code == 403
              ? "the relay refused the session token (HTTP " + code + ")"
              : "the relay refused the connection (HTTP " + code + ")");
    }
    if (!upgrade || !connection || !accept.equals(gotAccept)) {
      throw new Refused(
          Reason.MALFORMED, 0, "the relay's upgrade answer is not a WebSocket handshake");
    }
  }

  private static String line(InputStream in, int[] budget) throws IOException {
    StringBuilder b = new StringBuilder(64);
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new Refused(
            Reason.TRUNCATED, 0, "the connection closed inside the relay's upgrade answer");
      }
      if (--budget[0] < 0) {
        throw new Refused(
            Reason.OVERSIZED, 0, "the relay's upgrade answer is over " + MAX_HEAD_BYTES + " bytes");
      }
      if (c == '\n') {
        int n = b.length();
        if (n == 0 || b.charAt(n - 1) != '\r') {
          throw new Refused(
              Reason.MALFORMED, 0, "a line of the relay's answer does not end in CRLF");
        }
        return b.substring(0, n - 1);
      }
      b.append((char) c);
    }
  }

  /**
   * Blocks for the next binary message; null when the relay closed the connection cleanly (a close
   * frame, or the end of the stream between frames). Answers pings; ignores pongs.
   */
  public byte[] receive() throws IOException {
    return receive(in, this::control, !client);
  }

  interface Control {
    void frame(int opcode, byte[] payload) throws IOException;
  }

  /** One message from {@code in} (visible for the tests, which feed it bytes). */
  static byte[] receive(InputStream in, Control control) throws IOException {
    return receive(in, control, false);
  }

  private static byte[] receive(InputStream in, Control control, boolean masked)
      throws IOException {
    ByteArrayOutputStream message = null;
    while (true) {
      int b0 = in.read();
      if (b0 < 0) {
        if (message != null) {
          throw new Refused(Reason.TRUNCATED, 0, "the relay connection ended inside a message");
        }
        return null;
      }
      int b1 = read(in);
      boolean fin = (b0 & 0x80) != 0;
      int opcode = b0 & 0x0f;
      if ((b0 & 0x70) != 0) {
        throw new Refused(Reason.MALFORMED, 0, "a WebSocket frame with reserved bits set");
      }
      if (((b1 & 0x80) != 0) != masked) {
        throw new Refused(
            Reason.MALFORMED,
            0,
            masked
                ? "an unmasked WebSocket frame from a client"
                : "a masked WebSocket frame from the relay");
      }
      long length = payloadLength(in, b1 & 0x7f);
      boolean controlFrame = opcode >= 0x8;
      if (controlFrame && (!fin || length > 125)) {
        throw new Refused(Reason.MALFORMED, 0, "a fragmented or oversized WebSocket control frame");
      }
      long total = (message == null ? 0 : message.size()) + length;
      if (total > MAX_MESSAGE) {
        throw new Refused(
            Reason.OVERSIZED, 0, "a WebSocket message over " + MAX_MESSAGE + " bytes");
      }
      byte[] payload = payload(in, (int) length, masked);
      switch (opcode) {
        case 0x0 -> {
          if (message == null) {
            throw new Refused(
                Reason.MALFORMED, 0, "a WebSocket continuation frame without a message");
          }
          message.write(payload);
        }
        case 0x2 -> {
          if (message != null) {
            throw new Refused(
                Reason.MALFORMED, 0, "a new WebSocket message inside a fragmented one");
          }
          message = new ByteArrayOutputStream((int) length);
          message.write(payload);
        }
        case 0x8 -> {
          control.frame(opcode, payload);
          return null;
        }
        case 0x9, 0xA -> control.frame(opcode, payload);
        default ->
            throw new Refused(
                Reason.MALFORMED,
                0,
                opcode == 0x1
                    ? "a text WebSocket message from the relay (it sends binary frames only)"
                    : "a WebSocket frame with an unknown opcode " + opcode);
      }
      if (fin && message != null && !controlFrame) {
        return message.toByteArray();
      }
    }
  }

  /** The frame's payload length: 7 bits, or the 16 or 64 bits that 126 or 127 announce. */
  private static long payloadLength(InputStream in, int sevenBits) throws IOException {
    long length = sevenBits;
    if (length == 126) {
      length = (read(in) << 8) | read(in);
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | read(in);
      }
      if (length < 0) {
        throw new Refused(Reason.MALFORMED, 0, "a WebSocket frame length over 2^63");
      }
    }
    return length;
  }

  /** The frame's payload (after its mask, which is undone), its length already bounded. */
  private static byte[] payload(InputStream in, int length, boolean masked) throws IOException {
    byte[] mask = masked ? in.readNBytes(4) : null;
    byte[] payload = in.readNBytes(length);
    if (payload.length < length || mask != null && mask.length < 4) {
      throw new Refused(Reason.TRUNCATED, 0, "the relay connection ended inside a WebSocket frame");
    }
    for (int k = 0; mask != null && k < payload.length; k++) {
      payload[k] ^= mask[k & 3];
    }
    return payload;
  }

  private static int read(InputStream in) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new Refused(
          Reason.TRUNCATED, 0, "the relay connection ended inside a WebSocket frame header");
    }
    return b;
  }

  private void control(int opcode, byte[] payload) throws IOException {
    if (opcode == 0x9) {
      write(0xA, payload);
    } else if (opcode == 0x8 && !closeSent) {
      closeSent = true;
      write(0x8, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0]);
    }
  }

  /** Sends one binary message. */
  public void send(byte[] message) throws IOException {
    write(0x2, message);
  }

  private void write(int opcode, byte[] payload) throws IOException {
    int n = payload.length;
    int maskBytes = client ? 4 : 0;
    byte[] frame = new byte[2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + maskBytes + n];
    int maskBit = client ? 0x80 : 0;
    int i = 0;
    frame[i++] = (byte) (0x80 | opcode);
    if (n < 126) {
      frame[i++] = (byte) (maskBit | n);
    } else if (n < 65536) {
      frame[i++] = (byte) (maskBit | 126);
      frame[i++] = (byte) (n >>> 8);
      frame[i++] = (byte) n;
    } else {
      frame[i++] = (byte) (maskBit | 127);
      for (int s = 56; s >= 0; s -= 8) {
        frame[i++] = (byte) ((long) n >>> s);
      }
    }
    byte[] mask = new byte[maskBytes];
    if (client) {
      RANDOM.nextBytes(mask);
      System.arraycopy(mask, 0, frame, i, 4);
    }
    i += maskBytes;
    for (int k = 0; k < n; k++) {
      frame[i + k] = client ? (byte) (payload[k] ^ mask[k & 3]) : payload[k];
    }
    synchronized (sending) {
      out.write(frame);
      out.flush();
    }
  }

  /**
   * Sends a normal close (best effort) and closes the connection without waiting for the answer.
   */
  @Override
  public void close() {
    try {
      if (!closeSent) {
        closeSent = true;
        write(0x8, new byte[] {0x03, (byte) 0xE8});
      }
    } catch (IOException e) {
      // the connection is gone already
    }
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
  }
}
