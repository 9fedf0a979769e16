package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/**
 * The browser app's origin is the control plane's public origin, and only that exact origin is the
 * app's (the CORS answers themselves: the audit service's BrowserOriginTest and the engine's
 * recordings tests).
 */
class BrowserOriginTest {
  @Test
  void theOriginIsTheControlPlanesSchemeHostAndPortInLowerCase() {
    assertThat(BrowserOrigin.of(URI.create("HTTPS://CP.Example.org:8443/api/")).origin())
        .isEqualTo("https://cp.example.org:8443");
    assertThat(BrowserOrigin.of(URI.create("https://cp.example.org")).origin())
        .isEqualTo("https://cp.example.org");
  }

  @Test
  void onlyTheExactOriginIsTheApps() {
    BrowserOrigin app = BrowserOrigin.of(URI.create("https://cp.example.org"));
    assertThat(app.isApp("https://cp.example.org")).isTrue();
    assertThat(app.isApp(null)).isFalse();
    assertThat(app.isApp("null")).isFalse();
    assertThat(app.isApp("http://cp.example.org")).isFalse();
    assertThat(app.isApp("https://cp.example.org.evil.example")).isFalse();
    assertThat(app.isApp("https://cp.example.org:443")).isFalse();
  }
}
