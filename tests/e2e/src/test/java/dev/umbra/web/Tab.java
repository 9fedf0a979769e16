package dev.umbra.web;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fresh browser profile of the browser tests (its own IndexedDB and storage) with one page, its
 * console and page errors collected; made by {@link BrowserPlatform#tab()}.
 */
public final class Tab implements AutoCloseable {
  /** How long a browser test waits for the page to get somewhere. */
  static final long WAIT_MS = 20_000;

  final BrowserContext context;
  public final Page page;
  public final List<String> console = new CopyOnWriteArrayList<>();

  public Tab(BrowserContext context) {
    this.context = context;
    this.page = context.newPage();
    page.onConsoleMessage(m -> console.add(m.type() + ": " + m.text()));
    page.onPageError(e -> console.add("pageerror: " + e));
  }

  Object js(String expression) {
    return page.evaluate(expression);
  }

  void awaitConsole(String fragment) {
    page.waitForCondition(
        () -> console.stream().anyMatch(m -> m.contains(fragment)),
        new Page.WaitForConditionOptions().setTimeout(WAIT_MS));
  }

  /** Waits until the page shows this browser's device status {@code status}. */
  public void awaitStatus(String status) {
    await("#device-status[data-status=" + status + "]");
  }

  /** Waits until an element matches {@code selector}. */
  public void await(String selector) {
    page.waitForSelector(selector, new Page.WaitForSelectorOptions().setTimeout(WAIT_MS));
  }

  /** The picture of an element for docs/ (under target/, copied by hand when the page changes). */
  void picture(String selector, String file) {
    page.locator(selector)
        .screenshot(new Locator.ScreenshotOptions().setPath(Path.of("target", file)));
  }

  @Override
  public void close() {
    context.close();
  }
}
