package dev.umbra.bench.webtty;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * node-pty alone (the PTY library under wetty), no network: the same keystroke and bulk workloads
 * as the bench's direct PTY path in Java, run by {@code node-pty-direct.js} (a resource beside this
 * class), so "direct PTY (Java) / direct PTY (node-pty)" is a ratio in one run.
 */
final class NodePty {
  private final Path nodeModules;
  private final Path script;

  private NodePty(Path nodeModules, Path script) {
    this.nodeModules = nodeModules;
    this.script = script;
  }

  /** Null when no node-pty is installed in {@code nodeModules}. */
  static NodePty find(Path nodeModules, Path workDir) throws IOException {
    if (!Files.isDirectory(nodeModules.resolve("node-pty"))) {
      return null;
    }
    Path script = workDir.resolve("node-pty-direct.js");
    try (InputStream in = NodePty.class.getResourceAsStream("node-pty-direct.js")) {
      Files.write(script, in.readAllBytes());
    }
    return new NodePty(nodeModules, script);
  }

  WebTtyBench.Bulk bulk(Path file) throws Exception {
    JsonObject r = run("bulk", file.toString());
    return new WebTtyBench.Bulk(
        r.getLong("bytes"), r.getDouble("seconds"), r.getDouble("cpuSeconds", Double.NaN));
  }

  WebTtyBench.Rtt rtt(int keystrokes, int warmup, String command) throws Exception {
    JsonArray nanos =
        run("rtt", String.valueOf(keystrokes), String.valueOf(warmup), command)
            .getJsonArray("nanos");
    long[] samples = new long[nanos.size()];
    for (int i = 0; i < samples.length; i++) {
      samples[i] = nanos.getLong(i);
    }
    return WebTtyBench.stats(samples);
  }

  private JsonObject run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("node", script.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("NODE_PATH", nodeModules.toString());
    pb.environment().put("TERM", "xterm");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || out.isEmpty()) {
      p.destroy();
      throw new IllegalStateException("node-pty-direct.js " + args[0] + " failed: " + out);
    }
    return new JsonObject(out.substring(out.lastIndexOf('\n') + 1));
  }
}
