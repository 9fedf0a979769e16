package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.TreeScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Fixed sleeps replaced by polling with a deadline" (issue 16), kept: no test source of the tree
 * calls {@code sleep}, {@code parkNanos}/{@code parkUntil}, Playwright's {@code waitForTimeout} or
 * a one-shot Vert.x timer ({@code setTimer(delay, handler)}, {@code timer(delay, unit)}: the same
 * fixed wait, written as a callback) outside {@link #ALLOWED}. A wait for something to happen polls
 * with a deadline ({@code dev.umbra.kit.testing.Eventually}, which fails fast on an absence too
 * with {@code holdsThroughout}); a fixed sleep is either too short on a loaded machine or too long
 * everywhere.
 *
 * <p>Calls are found by parsing every test source with javac's own parser (comments and strings are
 * not calls). Each allowed file has the number of such calls it may hold and the reason: the places
 * where elapsed time itself is what the code is about.
 */
class FixedSleepsTest {

  /**
   * The methods that wait for a fixed time, by name (Thread, TimeUnit, LockSupport, Playwright).
   */
  static final Set<String> FIXED_WAITS =
      Set.of("sleep", "parkNanos", "parkUntil", "waitForTimeout");

  /**
   * A one-shot timer: {@code setTimer(delay, handler)}, or {@code timer(delay, unit)} whose second
   * argument is a {@code TimeUnit} (Micrometer's {@code timer(name, tags...)} is a meter, not a
   * wait). Periodic timers are not counted: polling is what a wait should do.
   */
  static boolean oneShotTimer(String name, List<? extends ExpressionTree> args) {
    return args.size() == 2
        && (name.equals("setTimer")
            || (name.equals("timer") && TIME_UNIT.matcher(args.get(1).toString()).matches()));
  }

  static final Pattern TIME_UNIT =
      Pattern.compile("(.*\\.)?(NANOSECONDS|MICROSECONDS|MILLISECONDS|SECONDS|MINUTES|HOURS|DAYS)");

  record Allowed(int calls, String why) {}

  /** Test sources that may wait for a fixed time: path → how many calls, and why. */
  static final Map<String, Allowed> ALLOWED =
      new TreeMap<>(
          Map.of(
              "shared/service-kit/src/test/java/dev/umbra/kit/testing/Eventually.java",
              new Allowed(1, "the poll interval of the polling helper every wait goes through"),
              "shared/service-kit/src/test/java/dev/umbra/kit/http/NetEdgeTest.java",
              new Allowed(
                  3,
                  "the slowloris trickle: one byte every 50 ms is the attack under test; and the"
                      + " two upgrade checks that answer after 300 ms and 100 ms are the slow"
                      + " authentication the upgrade must wait for"),
              "shared/service-kit/src/test/java/dev/umbra/kit/bus/BusContract.java",
              new Allowed(
                  1,
                  "the entry that must wake a read blocked on its stream is appended 300 ms after"
                      + " the read starts (a read not blocked yet still passes: no flake)"),
              "clients/core/src/test/java/dev/umbra/client/channel/ChannelLoopTest.java",
              new Allowed(
                  4,
                  "the channel loop's own one-shot timers (fired, cancelled, after stop) are"
                      + " under test"),
              "services/audit/src/test/java/dev/umbra/audit/KillRestartTest.java",
              new Allowed(
                  1,
                  "paces the event producer so events keep arriving while one instance is killed"
                      + " and another starts"),
              "tests/e2e/src/test/java/dev/umbra/chaos/ChaosSuiteTest.java",
              new Allowed(
                  1, "the fault is a 10 s SIGSTOP of Redis (the pause's length is the point)"),
              "tests/e2e/src/test/java/dev/umbra/chaos/ChaosLoad.java",
              new Allowed(1, "a user's back-off before sending a refused message again"),
              "tests/e2e/src/test/java/dev/umbra/chaos/ForwardStream.java",
              new Allowed(1, "paces the forwarded stream to its rate while a fault is on")));

  static Map<String, Integer> measured;

  @BeforeAll
  static void findFixedWaits() throws IOException {
    measured = fixedWaits(JavaSources.repo(), JavaSources.all("src/test/java/"));
  }

  /** The files among {@code sources} that call a fixed wait, with how many calls each holds. */
  static Map<String, Integer> fixedWaits(Path root, List<Path> sources) throws IOException {
    Map<String, Integer> found = new TreeMap<>();
    JavaSources.parse(
        root,
        sources,
        unit ->
            new TreeScanner<Void, Void>() {
              @Override
              public Void visitMethodInvocation(MethodInvocationTree call, Void unused) {
                Tree callee = call.getMethodSelect();
                String name =
                    callee instanceof MemberSelectTree m
                        ? m.getIdentifier().toString()
                        : ((IdentifierTree) callee).getName().toString();
                if (FIXED_WAITS.contains(name) || oneShotTimer(name, call.getArguments())) {
                  found.merge(unit.file(), 1, Integer::sum);
                }
                return super.visitMethodInvocation(call, unused);
              }
            }.scan(unit.tree(), null));
    return found;
  }

  @Test
  void noTestSourceWaitsForAFixedTimeOutsideTheAllowList() {
    List<String> wrong = new ArrayList<>();
    measured.forEach(
        (file, calls) -> {
          Allowed allowed = ALLOWED.get(file);
          if (allowed == null) {
            wrong.add(file + " (" + calls + " fixed waits)");
          } else if (calls > allowed.calls()) {
            wrong.add(file + " (" + calls + " fixed waits, " + allowed.calls() + " allowed)");
          }
        });
    assertThat(wrong)
        .as(
            "fixed sleeps and one-shot timers in tests: poll with a deadline"
                + " (Eventually.await/until/holdsThroughout);"
                + " only where elapsed time is the point, list the file in FixedSleepsTest.ALLOWED"
                + " with the reason")
        .isEmpty();
  }

  @Test
  void theAllowListOnlyHoldsFilesThatStillWaitAsOftenAsItSays() {
    List<String> stale = new ArrayList<>();
    ALLOWED.forEach(
        (file, allowed) -> {
          int now = measured.getOrDefault(file, 0);
          if (now < allowed.calls()) {
            stale.add(
                file + " holds " + now + " fixed waits, not " + allowed.calls() + ": lower it");
          }
          assertThat(allowed.why()).as(file).isNotBlank();
        });
    assertThat(stale).isEmpty();
  }

  @Test
  void theSearchFindsEveryFormOfFixedWaitButNotCommentsStringsPollingOrMeters(@TempDir Path dir)
      throws IOException {
    Path waits =
        Files.writeString(
            dir.resolve("Waits.java"),
            """
            package x;
            import static java.lang.Thread.sleep;
            class Waits {
              void f(com.microsoft.playwright.Page page) throws Exception {
                Thread.sleep(10);
                sleep(10);
                java.util.concurrent.TimeUnit.SECONDS.sleep(1);
                java.util.concurrent.locks.LockSupport.parkNanos(5);
                page.waitForTimeout(100);
                io.vertx.core.Vertx vertx = null;
                vertx.setTimer(200, t -> check());
                vertx.timer(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                vertx.timer(1, MILLISECONDS);
              }
            }
            """);
    Path clean =
        Files.writeString(
            dir.resolve("Clean.java"),
            """
            package x;
            class Clean {
              // Thread.sleep(10) in a comment is no call
              String s = "Thread.sleep(10)";
              void f(io.vertx.core.Vertx vertx, io.micrometer.core.instrument.MeterRegistry r) {
                dev.umbra.kit.testing.Eventually.await("x", java.time.Duration.ofSeconds(1), () -> true);
                vertx.setPeriodic(100, t -> poll());
                r.timer("umbra.stage", "stage");
                r.find("umbra.stage").timer();
              }
            }
            """);
    assertThat(fixedWaits(dir, List.of(waits, clean))).containsExactly(Map.entry("Waits.java", 8));
  }
}
