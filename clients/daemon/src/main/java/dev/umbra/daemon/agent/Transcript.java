package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.crypto.keys.PrivateFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An agent session's transcript on the machine (docs/agents.md, "Transcripts"): its numbered
 * frames, one JSON line each, in segment files {@code transcript-<first seq, 20 digits>.jsonl}
 * (0600) in the session's 0700 directory. A segment is closed at {@link #SEGMENT_BYTES}; when the
 * segments together pass {@link #MAX_BYTES} the oldest is deleted (the transcript then starts
 * later, which a page shows by its first frame's number). Never sent to any service: only pages to
 * a client over the E2E channel. Blocking; one writer (the session, under its lock), readers any
 * thread.
 */
public final class Transcript {
  static final long SEGMENT_BYTES = 1024 * 1024;
  static final long MAX_BYTES = 32 * 1024 * 1024;

  /** The largest page, in frames and in bytes (it must fit the channel's window comfortably). */
  public static final int MAX_PAGE_FRAMES = 500;

  static final int MAX_PAGE_BYTES = 1024 * 1024;

  private static final Pattern SEGMENT = Pattern.compile("transcript-(\\d{20})\\.jsonl");

  /** A page: its frames and the number to ask for next; {@code more} when frames follow it. */
  public record Page(List<AgentFrame> frames, long nextSeq, boolean more) {}

  private final Path dir;
  private Path segment;
  private long segmentBytes;
  private long totalBytes;

  public Transcript(Path dir) {
    this.dir = dir;
  }

  /** Appends a numbered frame (its line and a new line), rotating as needed. */
  public void append(AgentFrame f) throws IOException {
    byte[] line = (f.json().encode() + "\n").getBytes(StandardCharsets.UTF_8);
    if (segment == null || segmentBytes + line.length > SEGMENT_BYTES) {
      segment = dir.resolve(String.format("transcript-%020d.jsonl", f.seq()));
      segmentBytes = 0;
    }
    PrivateFiles.append(segment, line);
    segmentBytes += line.length;
    totalBytes += line.length;
    if (totalBytes > MAX_BYTES) {
      List<Path> all = segments();
      for (int i = 0; i < all.size() - 1 && totalBytes > MAX_BYTES; i++) {
        totalBytes -= Files.size(all.get(i));
        Files.delete(all.get(i));
      }
    }
  }

  /** Up to {@code limit} frames from number {@code from} on (bounded by the page maxima). */
  public Page page(long from, int limit) throws IOException {
    int max = limit <= 0 || limit > MAX_PAGE_FRAMES ? MAX_PAGE_FRAMES : limit;
    List<Path> all = segments();
    int start = 0;
    for (int i = 0; i < all.size(); i++) {
      if (firstSeq(all.get(i)) <= from) {
        start = i;
      }
    }
    List<AgentFrame> frames = new ArrayList<>();
    long bytes = 0;
    long next = from;
    for (int i = start; i < all.size(); i++) {
      try (BufferedReader r = Files.newBufferedReader(all.get(i), StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          AgentFrame f = stored(line);
          if (f == null || f.seq() < next) {
            continue;
          }
          if (frames.size() == max || bytes + line.length() > MAX_PAGE_BYTES) {
            return new Page(frames, f.seq(), true);
          }
          frames.add(f);
          bytes += line.length();
          next = f.seq() + 1;
        }
      }
    }
    return new Page(frames, next, false);
  }

  /** A stored line as a frame; null for a line that is not one (a torn last write). */
  private static AgentFrame stored(String line) {
    try {
      return AgentFrames.parse(line.getBytes(StandardCharsets.UTF_8), AgentFrames.Source.DAEMON);
    } catch (AgentFrames.FrameException e) {
      return null;
    }
  }

  private List<Path> segments() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches()).sorted().toList();
    }
  }

  private static long firstSeq(Path segment) {
    var m = SEGMENT.matcher(segment.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : 0;
  }
}
