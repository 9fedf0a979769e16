package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.TreeScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No source of the tree uses a Vert.x client it does not hold: {@code
 * vertx.createWebSocketClient().connect(…)} in one chain leaves the client unreachable while its
 * connection is still being made, and Vert.x closes a client that has become unreachable (a
 * Cleaner) with every connection it has. A collection mid-handshake failed the upgrade ("Connection
 * closed while handshake in process"; CI, 2026-12-06, MessageDeliveryTest) or closed a socket under
 * a test. A client is assigned to a field or variable that lives as long as its connections.
 *
 * <p>Found by parsing every main and test source with javac's own parser: a call whose receiver is
 * itself a call of one of {@link #CLIENT_FACTORIES}.
 */
class HeldClientsTest {
  static final Set<String> CLIENT_FACTORIES =
      Set.of("createWebSocketClient", "createHttpClient", "createNetClient");

  @Test
  void everyVertxClientIsHeldWhileItConnects() throws IOException {
    List<Path> sources = new ArrayList<>(JavaSources.all("src/main/java/"));
    sources.addAll(JavaSources.all("src/test/java/"));
    assertThat(sources).as("the walk found the tree's sources").hasSizeGreaterThan(500);
    assertThat(unheld(JavaSources.repo(), sources))
        .as("a client used in the chain that created it (assign it to a field or variable)")
        .isEmpty();
  }

  @Test
  void findsAClientUsedInTheChainThatCreatedIt(@TempDir Path root) throws IOException {
    Path file = root.resolve("Chained.java");
    Files.writeString(
        file,
        """
        class Chained {
          void held(io.vertx.core.Vertx vertx) {
            var client = vertx.createWebSocketClient();
            client.connect(80, "h", "/");
          }
          void chained(io.vertx.core.Vertx vertx) {
            vertx.createWebSocketClient().connect(80, "h", "/");
          }
        }
        """);
    assertThat(unheld(root, List.of(file))).containsExactly("Chained.java:7 connect");
  }

  /** Each call on a client in the chain that created it, as {@code file:line method}. */
  static List<String> unheld(Path root, List<Path> sources) throws IOException {
    List<String> found = new ArrayList<>();
    JavaSources.parse(
        root,
        sources,
        unit ->
            new TreeScanner<Void, Void>() {
              @Override
              public Void visitMethodInvocation(MethodInvocationTree call, Void unused) {
                if (call.getMethodSelect() instanceof MemberSelectTree m
                    && isClientFactoryCall(m.getExpression())) {
                  long at = unit.positions().getStartPosition(unit.tree(), call);
                  found.add(unit.file() + ":" + unit.line(at) + " " + m.getIdentifier());
                }
                return super.visitMethodInvocation(call, unused);
              }
            }.scan(unit.tree(), null));
    return found;
  }

  private static boolean isClientFactoryCall(Tree t) {
    return t instanceof MethodInvocationTree inner
        && inner.getMethodSelect() instanceof MemberSelectTree m
        && CLIENT_FACTORIES.contains(m.getIdentifier().toString());
  }
}
