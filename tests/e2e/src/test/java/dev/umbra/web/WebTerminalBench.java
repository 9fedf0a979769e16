package dev.umbra.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Keyboard;
import com.microsoft.playwright.Page;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import java.io.IOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The browser terminal's figures of issue 18 (docs/benchmarks.md "Browser terminal"), measured in
 * one run in the same Chromium next to wetty serving the same machine: keystroke to screen — from
 * the key's {@code keydown} to the end of xterm.js parsing its echo (the callback of the {@code
 * write} that carried it), the same probe on both pages — and the time to render {@code cat} of a
 * 10 MiB text file (Enter to the line after it in xterm's buffer). The two pages take turns, round
 * by round, so both see the same load. A benchmark, not a test: its name keeps it out of {@code
 * ./mvnw verify}; run it with
 *
 * <pre>
 * ./mvnw -B -o -pl tests/e2e -am -Dtest=WebTerminalBench -Dsurefire.failIfNoSpecifiedTests=false test
 * </pre>
 *
 * Env: {@code UMBRA_BENCH_WETTY} (wetty's {@code build/main.js}), {@code UMBRA_BENCH_KEYSTROKES}
 * (per page, default 500), {@code UMBRA_BENCH_ROUNDS} (bulk rounds per page, default 3).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebTerminalBench {
  static final String OURS = "document.getElementById('terminal-screen').terminal";
  static final String WETTY = "window.wetty_term";
  static final Map<String, String> ENV = System.getenv();

  BrowserPlatform platform;
  TerminalMachine machine;
  Process wetty;
  int wettyPort;

  @BeforeAll
  void start() throws Exception {
    platform =
        BrowserPlatform.start(
            "webbench", ServiceName.PAIRING, ServiceName.WEBTTY_ENGINE, ServiceName.AUDIT);
    machine = TerminalMachine.pair(platform);
    try (ServerSocket s = new ServerSocket(0)) {
      wettyPort = s.getLocalPort();
    }
    String main =
        ENV.getOrDefault("UMBRA_BENCH_WETTY", "/tmp/wetty/node_modules/wetty/build/main.js");
    // the daemon's shell in the browser tests is /bin/sh; wetty (as root on localhost) runs the
    // same
    wetty =
        new ProcessBuilder(
                "node",
                main,
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(wettyPort),
                "--base",
                "/wetty",
                "--command",
                "/bin/sh",
                "--log-level",
                "error")
            .redirectErrorStream(true)
            .redirectOutput(Path.of("target", "wetty.log").toFile())
            .start();
    awaitWetty();
  }

  @AfterAll
  void stop() throws Exception {
    if (wetty != null) {
      wetty.destroy();
      wetty.waitFor(10, TimeUnit.SECONDS);
    }
    if (machine != null) {
      machine.close();
    }
    if (platform != null) {
      platform.close();
    }
  }

  void awaitWetty() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest page =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + wettyPort + "/wetty")).build();
    int status =
        Eventually.until(
            "wetty serves its page",
            Duration.ofSeconds(60),
            () -> {
              if (!wetty.isAlive()) {
                return -1; // exited: no use waiting
              }
              return http.send(page, HttpResponse.BodyHandlers.discarding()).statusCode();
            },
            s -> s == 200 || s == -1);
    if (status != 200) {
      throw new IllegalStateException("wetty did not start");
    }
  }

  @Test
  @Timeout(value = 18, unit = TimeUnit.MINUTES)
  void keystrokeToScreenAndBulkOutputNextToWetty() throws Exception {
    int keys = Integer.parseInt(ENV.getOrDefault("UMBRA_BENCH_KEYSTROKES", "500"));
    int rounds = Integer.parseInt(ENV.getOrDefault("UMBRA_BENCH_ROUNDS", "3"));
    Path file = platform.h.tmp.resolve("bulk-10mib.txt");
    String line = "0123456789".repeat(8).substring(0, 79) + "\n"; // fits 80 columns: no wrapping
    try (Writer w = Files.newBufferedWriter(file)) {
      for (int i = 0; i < 10 * 1024 * 1024 / line.length(); i++) {
        w.write(line);
      }
    }
    try (Tab u = platform.tab();
        Tab w = platform.tab()) {
      u.page.setViewportSize(1280, 900);
      w.page.setViewportSize(1280, 900);
      platform.trustedBrowser(u, "bench browser");
      machine.syncTrust();
      machine.open(u);
      w.page.navigate("http://127.0.0.1:" + wettyPort + "/wetty");
      w.page.waitForFunction(
          "() => window.wetty_term !== undefined && window.wetty_term.buffer.active.length > 0");
      Side ours = new Side("umbra", u, OURS, "#terminal-screen");
      Side theirs = new Side("wetty", w, WETTY, "#terminal");
      w.page.evaluate(
          "([c, r]) => window.wetty_term.resize(c, r)",
          u.page.evaluate("() => { const t = " + OURS + "; return [t.cols, t.rows]; }"));
      for (Side s : List.of(ours, theirs)) {
        s.install();
        s.command("echo ready-$((4+4))", "ready-8");
        System.out.println("[web-bench] " + s.name() + ": " + s.describe());
      }
      double[] ourBulk = new double[rounds];
      double[] wettyBulk = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ourBulk[r] = ours.bulk(file, r);
        wettyBulk[r] = theirs.bulk(file, r);
        System.out.printf(
            "[web-bench] bulk round %d: umbra %.2f s, wetty %.2f s%n", r, ourBulk[r], wettyBulk[r]);
      }
      // where the time goes: xterm.js alone in each page (no network, no decryption)
      double ourXterm = ours.xtermAlone(Files.size(file));
      double wettyXterm = theirs.xtermAlone(Files.size(file));
      System.out.printf(
          "[web-bench] xterm.js alone, the same 10 MiB as 64 KiB string writes: umbra page %.2f s,"
              + " wetty page %.2f s%n",
          ourXterm, wettyXterm);
      List<Double> ourKeys = new ArrayList<>();
      List<Double> wettyKeys = new ArrayList<>();
      u.page.evaluate("() => { document.getElementById('terminal-screen').stages = {}; }");
      int perRound = 250;
      for (int done = 0; done < keys; done += perRound) {
        ourKeys.addAll(ours.keystrokes(perRound));
        wettyKeys.addAll(theirs.keystrokes(perRound));
        System.out.printf("[web-bench] keystrokes: %d per page%n", ourKeys.size());
      }
      System.out.println("[web-bench] umbra page stages while typing: " + stages(u));
      report(ours, theirs, ourKeys, wettyKeys, ourBulk, wettyBulk, Files.size(file));
      assertThat(u.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  void report(
      Side ours,
      Side theirs,
      List<Double> ourKeys,
      List<Double> wettyKeys,
      double[] ourBulk,
      double[] wettyBulk,
      long bytes)
      throws IOException {
    double[] uk = sorted(ourKeys);
    double[] wk = sorted(wettyKeys);
    double ub = median(ourBulk);
    double wb = median(wettyBulk);
    double mib = bytes / 1048576.0;
    String cpu =
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.startsWith("model name"))
            .findFirst()
            .orElse("?");
    String out =
        String.format(
            "%n[web-bench] %s, %d CPUs, load %s%n"
                + "[web-bench] terminals: umbra %s, wetty %s%n"
                + "[web-bench] keystroke-to-screen umbra p50 %.2f ms p99 %.2f ms (n=%d)%n"
                + "[web-bench] keystroke-to-screen wetty p50 %.2f ms p99 %.2f ms (n=%d)%n"
                + "[web-bench] keystroke p99 umbra/wetty %.2fx, p50 %.2fx (goal p99 <= 10 ms and <= 1x)%n"
                + "[web-bench] cat %.0f MiB umbra %.2f s (%.2f MiB/s) rounds %s%n"
                + "[web-bench] cat %.0f MiB wetty %.2f s (%.2f MiB/s) rounds %s%n"
                + "[web-bench] bulk throughput umbra/wetty %.2fx (goal >= 1x)%n",
            cpu.substring(cpu.indexOf(':') + 1).trim(),
            Runtime.getRuntime().availableProcessors(),
            Files.readString(Path.of("/proc/loadavg")).trim(),
            ours.describe(),
            theirs.describe(),
            pct(uk, 50),
            pct(uk, 99),
            uk.length,
            pct(wk, 50),
            pct(wk, 99),
            wk.length,
            pct(uk, 99) / pct(wk, 99),
            pct(uk, 50) / pct(wk, 50),
            mib,
            ub,
            mib / ub,
            Arrays.toString(ourBulk),
            mib,
            wb,
            mib / wb,
            Arrays.toString(wettyBulk),
            wb / ub);
    System.out.println(out);
    Files.writeString(Path.of("target", "web-bench.txt"), out);
  }

  /**
   * The page's own stage timings (terminal.js {@code stage}: seal, queue, decrypt, xterm) while
   * typing: p50, p99 and max of each, in ms.
   */
  static String stages(Tab t) {
    return (String)
        t.page.evaluate(
            "() => { const s = document.getElementById('terminal-screen').stages || {};"
                + " const q = (a, p) => { const b = [...a].sort((x, y) => x - y);"
                + "  return b.length ? b[Math.max(0, Math.ceil(b.length * p / 100) - 1)].toFixed(2) : 'n/a'; };"
                + " return Object.keys(s).map((k) => k + ' p50 ' + q(s[k], 50) + ' p99 ' + q(s[k], 99)"
                + "  + ' max ' + q(s[k], 100) + ' (n=' + s[k].length + ')').join('; '); }");
  }

  static double[] sorted(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  /** Nearest-rank percentile of sorted values. */
  static double pct(double[] sorted, int p) {
    return sorted[Math.max(0, (int) Math.ceil(sorted.length * p / 100.0) - 1)];
  }

  static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** One page with an xterm.js terminal on the machine: the probe, typing, a bulk command. */
  record Side(String name, Tab tab, String term, String focus) {
    Page page() {
      return tab.page;
    }

    /**
     * The probe, the same on both pages: each keydown queues its time; each write to xterm that
     * carries echoed {@code a}s takes that many times off the queue when xterm has parsed it.
     */
    void install() {
      page()
          .evaluate(
              "() => { const t = "
                  + term
                  + "; window.__bench = { keys: [], lat: [], enter: undefined };"
                  + " document.addEventListener('keydown', (e) => { const b = window.__bench;"
                  + "  if (e.key === 'a') b.keys.push(performance.now());"
                  + "  if (e.key === 'Enter') b.enter = performance.now(); }, true);"
                  + " const write = t.write.bind(t);"
                  + " t.write = (d, cb) => { let n = 0; const b = window.__bench;"
                  + "  if (b.keys.length) { if (typeof d === 'string') { for (let i = 0; i < d.length; i++) if (d.charCodeAt(i) === 97) n++; }"
                  + "   else { for (let i = 0; i < d.length; i++) if (d[i] === 97) n++; } }"
                  + "  return write(d, () => { const now = performance.now();"
                  + "   for (let i = 0; i < n && b.keys.length; i++) b.lat.push(now - b.keys.shift());"
                  + "   if (cb) cb(); }); }; }");
    }

    void typeLine(String s) {
      page().click(focus);
      page().keyboard().type(s);
      page().keyboard().press("Enter");
    }

    /** Types {@code s}, Enter, and waits for a line {@code expect} in the last 60 of the buffer. */
    double command(String s, String expect) {
      typeLine(s);
      try {
        return awaitLine(expect);
      } catch (com.microsoft.playwright.PlaywrightException e) {
        tab.picture("body", "web-bench-" + name + ".png");
        System.out.println(
            "[web-bench] "
                + name
                + " did not show "
                + expect
                + "; last lines: "
                + page()
                    .evaluate(
                        "() => { const t = "
                            + term
                            + "; const b = t.buffer.active; const out = [];"
                            + " for (let i = Math.max(0, b.length - 8); i < b.length; i++)"
                            + "  out.push(b.getLine(i).translateToString(true)); return out.join(' | ')"
                            + "  + ' [enter ' + window.__bench.enter + ']'; }")
                + " state: "
                + page()
                    .evaluate(
                        "() => { const s = document.getElementById('terminal-state');"
                            + " return s ? s.textContent : ''; }")
                + " console: "
                + tab.console);
        throw e;
      }
    }

    double awaitLine(String expect) {
      return ((Number)
              page()
                  .waitForFunction(
                      "c => { const t = "
                          + term
                          + "; const b = t.buffer.active;"
                          + " for (let i = b.length - 1; i >= Math.max(0, b.length - 60); i--) {"
                          + "  const l = b.getLine(i); if (l && l.translateToString(true) === c)"
                          + "   return performance.now() - window.__bench.enter; } return false; }",
                      expect,
                      new Page.WaitForFunctionOptions().setTimeout(150_000).setPollingInterval(50))
                  .jsonValue())
          .doubleValue();
    }

    /** {@code n} keystrokes 20 ms apart, their latencies in ms; then the line is erased (^U). */
    List<Double> keystrokes(int n) {
      page().evaluate("() => { window.__bench.keys = []; window.__bench.lat = []; }");
      page().click(focus);
      page().keyboard().type("a".repeat(n), new Keyboard.TypeOptions().setDelay(20));
      page()
          .waitForFunction(
              "n => window.__bench.lat.length >= n",
              n,
              new Page.WaitForFunctionOptions().setTimeout(60_000));
      @SuppressWarnings("unchecked")
      List<Number> lat = (List<Number>) page().evaluate("() => window.__bench.lat");
      page().keyboard().press("Control+U");
      return lat.stream().map(Number::doubleValue).toList();
    }

    /** Seconds from Enter on {@code cat file} to the line printed after it in xterm's buffer. */
    double bulk(Path file, int round) {
      int marker = 1000 + round;
      return command("cat " + file + "; echo done-$((" + marker + "+0))", "done-" + marker) / 1000;
    }

    /**
     * Seconds for this page's xterm.js to parse {@code bytes} of 79-column lines written in 64 KiB
     * strings straight from the page (the last write's callback): the terminal's own share of a
     * bulk output.
     */
    double xtermAlone(long bytes) {
      return ((Number)
                  page()
                      .evaluate(
                          "n => new Promise((done) => { const t = "
                              + term
                              + "; const chunk = ('0123456789'.repeat(8).slice(0, 79) + '\\r\\n').repeat(809);"
                              + " const k = Math.ceil(n / chunk.length); const t0 = performance.now();"
                              + " for (let i = 0; i < k; i++) t.write(chunk, i === k - 1"
                              + "  ? () => done(performance.now() - t0) : undefined); })",
                          (int) bytes))
              .doubleValue()
          / 1000;
    }

    String describe() {
      return (String)
          page()
              .evaluate(
                  "() => { const t = "
                      + term
                      + "; const c = document.querySelector('"
                      + focus
                      + " canvas'); return t.cols + 'x' + t.rows + ', '"
                      + " + ((t.getOption && t.getOption('rendererType')) || (c ? 'webgl' : 'dom')) + ' renderer'; }");
    }
  }
}
