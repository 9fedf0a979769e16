package dev.umbra.kit.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionVerifier} against a real key set endpoint whose keys change (a control-plane
 * instance started, or a rotation): a valid token is never refused because a fetch had just been
 * made, and tokens naming keys that do not exist fetch no more often than {@link
 * SessionVerifier#MIN_REFRESH}.
 */
class KeySetFetchesTest {
  private final TestSessionTokens first = new TestSessionTokens("first");
  private final TestSessionTokens started = new TestSessionTokens("started-since");
  private final AtomicReference<JsonObject> published = new AtomicReference<>();
  private final AtomicInteger fetched = new AtomicInteger();

  /** While set, an answer waits for it (a fetch under way); the body is read at the request. */
  private final AtomicReference<Promise<Void>> holdAnswers = new AtomicReference<>();

  private Vertx vertx;
  private HttpServer server;
  private SessionVerifier verifier;

  @BeforeEach
  void serve() throws Exception {
    vertx = Vertx.vertx();
    published.set(keySet(first));
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  fetched.incrementAndGet();
                  String body = published.get().encode();
                  Promise<Void> hold = holdAnswers.get();
                  Future<Void> when = hold == null ? Future.succeededFuture() : hold.future();
                  when.onComplete(x -> req.response().end(body));
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    verifier =
        new SessionVerifier(
            vertx,
            URI.create("http://127.0.0.1:" + server.actualPort() + SessionTokens.JWKS_PATH),
            "relay",
            Clock.systemUTC());
    await(verifier.refresh()); // the service's warm-up at start
    assertThat(fetched.get()).isEqualTo(1);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static JsonObject keySet(TestSessionTokens... signers) {
    JsonArray keys = new JsonArray();
    for (TestSessionTokens t : signers) {
      keys.addAll(t.jwks().getJsonArray("keys"));
    }
    return new JsonObject().put("keys", keys);
  }

  private static String token(TestSessionTokens signer) {
    return signer.member(UUID.randomUUID(), "acct", Role.ADMIN, "relay", Instant.now());
  }

  private static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  void acceptsATokenOfAKeyPublishedRightAfterTheLastFetch() throws Exception {
    published.set(keySet(first, started));
    long t0 = System.nanoTime();
    SessionClaims claims = await(verifier.verify(token(started)));
    assertThat(claims.role()).isEqualTo(Role.ADMIN);
    assertThat(fetched.get()).as("one more fetch, after the interval").isEqualTo(2);
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("it waited for the interval, no longer")
        .isLessThan(SessionVerifier.MIN_REFRESH.toMillis() + 5_000);
    // known now: no fetch
    await(verifier.verify(token(started)));
    await(verifier.verify(token(first)));
    assertThat(fetched.get()).isEqualTo(2);
  }

  @Test
  void aFetchUnderWayThatStartedBeforeTheKeyWasPublishedIsFollowedByAnother() throws Exception {
    Promise<Void> hold = Promise.promise();
    holdAnswers.set(hold);
    Future<Void> underWay = verifier.refresh(); // reads the set without the new key
    Eventually.await(
        "the held fetch reached the server", Duration.ofSeconds(10), () -> fetched.get() == 2);
    holdAnswers.set(null);
    published.set(keySet(first, started));
    Future<SessionClaims> verified = verifier.verify(token(started));
    hold.complete();
    await(underWay);
    assertThat(await(verified).role()).isEqualTo(Role.ADMIN);
    assertThat(fetched.get()).isEqualTo(3);
  }

  @Test
  void tokensNamingKeysThatDoNotExistShareOneFetchAnIntervalAndAreRefused() throws Exception {
    List<Future<SessionClaims>> all = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      TestSessionTokens nobody = new TestSessionTokens("nobody-" + i);
      all.add(verifier.verify(token(nobody)));
    }
    for (Future<SessionClaims> f : all) {
      assertThatThrownBy(() -> await(f))
          .isInstanceOf(InvalidSessionException.class)
          .hasMessageContaining("unknown key");
    }
    assertThat(fetched.get()).as("the warm-up and one fetch for the fifty").isEqualTo(2);
  }

  @Test
  void aKeySetThatCannotBeFetchedIsUnavailabilityNotAnInvalidToken() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> await(verifier.verify(token(started))))
        .isInstanceOf(KeySetUnavailableException.class);
  }
}
