package dev.umbra.web;

import dev.umbra.kit.config.ServiceName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The relay channel's Noise in the browser app (docs/web.md "Agent sessions"): the relay's Noise
 * conformance vectors replayed in the page against its own noise.js.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebAgentSessionsBrowserTest {
  BrowserPlatform platform;

  @BeforeAll
  void start() throws Exception {
    platform = BrowserPlatform.start("websess", ServiceName.PAIRING, ServiceName.RELAY);
  }

  @AfterAll
  void stop() throws Exception {
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void theRelayNoiseVectorsReplayInThePageAndTamperingIsRefused() throws Exception {
    platform.replaysInThePage("noise-replay.js", 40, "noise.json");
  }
}
