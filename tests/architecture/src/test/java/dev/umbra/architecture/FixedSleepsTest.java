package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Fixed sleeps replaced by polling with a deadline" (issue 16), kept: no test source of the tree
 * calls {@code sleep}, {@code parkNanos}/{@code parkUntil} or Playwright's {@code waitForTimeout}
 * outside {@link #ALLOWED}. A wait for something to happen polls with a deadline ({@code
 * dev.umbra.kit.testing.Eventually}, which fails fast on an absence too with {@code
 * holdsThroughout}); a fixed sleep is either too short on a loaded machine or too long everywhere.
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

  record Allowed(int calls, String why) {}

  /** Test sources that may wait for a fixed time: path → how many calls, and why. */
  static final Map<String, Allowed> ALLOWED =
      new TreeMap<>(
          Map.of(
              "shared/service-kit/src/test/java/dev/umbra/kit/testing/Eventually.java",
              new Allowed(1, "the poll interval of the polling helper every wait goes through"),
              "shared/service-kit/src/test/java/dev/umbra/kit/http/NetEdgeTest.java",
              new Allowed(
                  1, "the slowloris trickle: one byte every 50 ms is the attack under test"),
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
                if (FIXED_WAITS.contains(name)) {
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
            "fixed sleeps in tests: poll with a deadline (Eventually.await/until/holdsThroughout);"
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
  void theSearchFindsEveryFormOfFixedWaitButNotCommentsStringsOrPolling(@TempDir Path dir)
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
              void f() {
                dev.umbra.kit.testing.Eventually.await("x", java.time.Duration.ofSeconds(1), () -> true);
              }
            }
            """);
    assertThat(fixedWaits(dir, List.of(waits, clean))).containsExactly(Map.entry("Waits.java", 5));
  }
}
