package dev.umbra.web;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's Chromium driven by Playwright (docs/web.md, "Tests"): never a browser Playwright would
 * download. Where /usr/bin/chromium is absent the browser tests are skipped with a loud message
 * ({@code .ci/run} installs it).
 */
public final class Chromium implements AutoCloseable {
  static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
  static final List<String> ARGS =
      List.of(
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run");

  final Playwright playwright;
  public final Browser browser;

  private Chromium(Playwright playwright, Browser browser) {
    this.playwright = playwright;
    this.browser = browser;
  }

  /** Launches Chromium, or skips the calling test class when it is not installed. */
  public static Chromium launchOrSkip() {
    return launchOrSkip(List.of());
  }

  /** {@link #launchOrSkip()} with {@code extraArgs} after the usual ones. */
  public static Chromium launchOrSkip(List<String> extraArgs) {
    if (!Files.isExecutable(EXECUTABLE)) {
      System.err.println(
          "\n*** SKIPPING the browser tests: no Chromium at "
              + EXECUTABLE
              + " (apt-get install -y chromium; .ci/run does it) ***\n");
    }
    assumeTrue(Files.isExecutable(EXECUTABLE), "no Chromium at " + EXECUTABLE);
    Playwright pw =
        Playwright.create(
            new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    Browser b =
        pw.chromium()
            .launch(
                new BrowserType.LaunchOptions()
                    .setExecutablePath(EXECUTABLE)
                    .setHeadless(true)
                    .setArgs(
                        java.util.stream.Stream.concat(ARGS.stream(), extraArgs.stream())
                            .toList()));
    return new Chromium(pw, b);
  }

  @Override
  public void close() {
    browser.close();
    playwright.close();
  }
}
