package dev.umbra.kit.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Deflater;

/**
 * A WebSocket client on a plain socket, byte by byte, so tests can send what a well-behaved client
 * library refuses to: frames with RSV1 set (compressed), oversized frames, a deflate bomb.
 */
public final class RawWebSocket implements AutoCloseable {
  /** What the server answered to the upgrade (with the body of a refusal). */
  public record Upgrade(int status, Map<String, String> headers, String body) {
    public Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name.toLowerCase()));
    }
  }

  /** A frame the server sent; a close frame carries its code (or -1 without one). */
  public record Frame(int opcode, byte[] payload) {
    public boolean isClose() {
      return opcode == 8;
    }

    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
    }

    public String closeReason() {
      return payload.length > 2
          ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8)
          : "";
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final Upgrade upgrade;

  private RawWebSocket(Socket socket, Upgrade upgrade, DataInputStream in) throws IOException {
    this.socket = socket;
    this.in = in;
    this.out = socket.getOutputStream();
    this.upgrade = upgrade;
  }

  /** Sends the upgrade request (with {@code extraHeaders}) and reads the answer's head. */
  public static RawWebSocket connect(
      int port, String path, Map<String, String> extraHeaders, Duration timeout)
      throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
    s.setSoTimeout((int) timeout.toMillis());
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    StringBuilder req =
        new StringBuilder()
            .append("GET ")
            .append(path)
            .append(" HTTP/1.1\r\n")
            .append("Host: 127.0.0.1:")
            .append(port)
            .append("\r\n")
            .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .append("Sec-WebSocket-Key: ")
            .append(Base64.getEncoder().encodeToString(key))
            .append("\r\n")
            .append("Sec-WebSocket-Version: 13\r\n");
    extraHeaders.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
    req.append("\r\n");
    s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
    DataInputStream in = new DataInputStream(s.getInputStream());
    String head = readHead(in);
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      if (c > 0) {
        headers.put(
            lines[i].substring(0, c).trim().toLowerCase(), lines[i].substring(c + 1).trim());
      }
    }
    String body = "";
    if (status != 101 && headers.containsKey("content-length")) {
      body =
          new String(
              in.readNBytes(Integer.parseInt(headers.get("content-length"))),
              StandardCharsets.UTF_8);
    }
    return new RawWebSocket(s, new Upgrade(status, headers, body), in);
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException(
            "connection closed during the upgrade answer: "
                + b.toString(StandardCharsets.ISO_8859_1));
      }
      b.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  public Upgrade upgrade() {
    return upgrade;
  }

  /** One masked frame; {@code rsv1} marks it permessage-deflate compressed. */
  public void send(int opcode, boolean rsv1, byte[] payload) throws IOException {
    sendFrame(opcode, true, rsv1, payload);
  }

  /**
   * One masked frame of a message sent in pieces: {@code opcode} 2 (binary) or 1 (text) first, 0
   * (continuation) after; {@code fin} on the last.
   */
  public void sendFragment(int opcode, boolean fin, byte[] payload) throws IOException {
    sendFrame(opcode, fin, false, payload);
  }

  private void sendFrame(int opcode, boolean fin, boolean rsv1, byte[] payload) throws IOException {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    int len = payload.length;
    if (len < 126) {
      f.write(0x80 | len);
    } else if (len < 65536) {
      f.write(0x80 | 126);
      f.write(len >>> 8);
      f.write(len);
    } else {
      f.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) ((long) len >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.write(mask);
    byte[] masked = new byte[len];
    for (int i = 0; i < len; i++) {
      masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    }
    f.write(masked);
    out.write(f.toByteArray());
    out.flush();
  }

  /**
   * The head of a masked binary frame declaring {@code declaredLength} payload bytes, and only the
   * first few of them: a server that checks the length header refuses it before reading on.
   */
  public void sendOversizedHead(long declaredLength) throws IOException {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x82);
    f.write(0x80 | 127);
    for (int i = 7; i >= 0; i--) {
      f.write((int) (declaredLength >>> (8 * i)));
    }
    f.write(new byte[] {1, 2, 3, 4});
    f.write(new byte[16]);
    out.write(f.toByteArray());
    out.flush();
  }

  /** The next frame from the server, or empty when the connection ended (EOF or reset) first. */
  public Optional<Frame> read() throws IOException {
    try {
      int b0 = in.read();
      if (b0 < 0) {
        return Optional.empty();
      }
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7f;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      byte[] p = new byte[(int) len];
      in.readFully(p);
      return Optional.of(new Frame(b0 & 0x0f, p));
    } catch (EOFException e) {
      return Optional.empty();
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException e) {
      return Optional.empty(); // reset by the server
    }
  }

  /** Frames until a close frame or the end of the connection; the close frame if there was one. */
  public Optional<Frame> awaitClose() throws IOException {
    while (true) {
      Optional<Frame> f = read();
      if (f.isEmpty() || f.get().isClose()) {
        return f;
      }
    }
  }

  /**
   * A raw-deflate stream (permessage-deflate's format, RFC 7692: the trailing 00 00 ff ff left off)
   * of {@code inflatedBytes} zero bytes: the bomb of the probe (64 MiB in about 63 KiB).
   */
  public static byte[] deflateBomb(int inflatedBytes) {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
    byte[] zeros = new byte[1 << 20];
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    int left = inflatedBytes;
    while (left > 0) {
      int n = Math.min(left, zeros.length);
      d.setInput(zeros, 0, n);
      left -= n;
      while (!d.needsInput()) {
        int k = d.deflate(buf, 0, buf.length, Deflater.NO_FLUSH);
        out.write(buf, 0, k);
      }
    }
    int k;
    while ((k = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) {
      out.write(buf, 0, k);
      if (k < buf.length) {
        break;
      }
    }
    d.end();
    byte[] all = out.toByteArray();
    return java.util.Arrays.copyOf(all, all.length - 4);
  }

  public boolean isClosedByPeer() {
    try {
      return in.read() < 0;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
