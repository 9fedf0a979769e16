package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.ServiceName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose.yaml and deploy/k8s/*.yaml agree with the code and docs/configuration.md: every
 * service is there with its image (which runs its Main), its documented port and the variables it
 * needs, and on Kubernetes /healthz probes (the images have no shell to run a compose health
 * check); every UMBRA_* variable they set is documented; the relay and the webtty-engine have a
 * PodDisruptionBudget and a HorizontalPodAutoscaler.
 */
class DeployManifestsTest {
  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  private static final Pattern VARIABLE = Pattern.compile("\\b(UMBRA_[A-Z0-9_]*[A-Z0-9])\\b");

  /** Needed by every service in a deployment (the rest have working defaults). */
  private static List<String> requiredVariables() {
    List<String> r =
        new ArrayList<>(List.of("UMBRA_PG_URL", "UMBRA_REDIS_URL", "UMBRA_INTERNAL_TOKEN"));
    for (ServiceName s : ServiceName.values()) {
      r.add(s.envPrefix() + "URL");
    }
    return r;
  }

  private static String configurationMd() throws IOException {
    return Files.readString(ROOT.resolve("docs/configuration.md"), StandardCharsets.UTF_8);
  }

  /** The default ports as docs/configuration.md's index lists them, in ServiceName order. */
  private static Map<ServiceName, Integer> documentedPorts() throws IOException {
    String row =
        configurationMd()
            .lines()
            .filter(l -> l.startsWith("| `UMBRA_CONTROL_PLANE_PORT`, "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no port row in the index of configuration.md"));
    String[] cells = row.split("\\|");
    Map<ServiceName, Integer> ports = new LinkedHashMap<>();
    String[] names = cells[1].split(",");
    String[] values = cells[2].split(",");
    assertThat(names).hasSize(ServiceName.values().length);
    for (int i = 0; i < names.length; i++) {
      String var = names[i].trim().replace("`", "");
      ServiceName s =
          Stream.of(ServiceName.values())
              .filter(n -> (n.envPrefix() + "PORT").equals(var))
              .findFirst()
              .orElseThrow(
                  () -> new AssertionError("configuration.md names an unknown port " + var));
      ports.put(s, Integer.parseInt(values[i].trim()));
    }
    return ports;
  }

  /**
   * The Main class the image {@code name:tag} runs, as deploy/images/pom.xml builds it (its
   * entrypoint's last argument); empty when no image of that name is built there.
   */
  private static String imageMain(String image) throws IOException {
    String pom = Files.readString(ROOT.resolve("deploy/images/pom.xml"), StandardCharsets.UTF_8);
    String name = image.contains(":") ? image.substring(0, image.indexOf(':')) : image;
    int at = pom.indexOf("<to><image>" + name + ":${project.version}</image></to>");
    if (at < 0) {
      return "";
    }
    Matcher m = Pattern.compile("<arg>(dev\\.umbra\\.[a-z.]+\\.Main)</arg>").matcher(pom);
    return m.find(at) ? m.group(1) : "";
  }

  private static String mainClass(ServiceName s) {
    return switch (s) {
      case CONTROL_PLANE -> "dev.umbra.controlplane.Main";
      case RELAY -> "dev.umbra.relay.Main";
      case PAIRING -> "dev.umbra.pairing.Main";
      case AUDIT -> "dev.umbra.audit.Main";
      case WEBTTY_ENGINE -> "dev.umbra.webtty.Main";
    };
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return o == null ? List.of() : (List<Object>) o;
  }

  private static Object at(Object node, String... path) {
    Object cur = node;
    for (String p : path) {
      cur = map(cur).get(p);
    }
    return cur;
  }

  /** Every UMBRA_* variable a manifest names is documented in configuration.md. */
  private static void everyVariableDocumented(String file, String text) throws IOException {
    String doc = configurationMd();
    Set<String> missing = new TreeSet<>();
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      if (!doc.contains("`" + m.group(1) + "`")) {
        missing.add(m.group(1));
      }
    }
    assertThat(missing).as(file + ": variables not in docs/configuration.md").isEmpty();
  }

  @Test
  void theDocumentedPortsAreTheServicesDefaults() throws IOException {
    for (Map.Entry<ServiceName, Integer> e : documentedPorts().entrySet()) {
      assertThat(e.getKey().defaultPort()).as(e.getKey().id()).isEqualTo(e.getValue());
    }
  }

  @Test
  void composeRunsEveryServiceImageOnItsDocumentedPortWithItsVariables() throws Exception {
    Path file = ROOT.resolve("deploy/compose.yaml");
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Map<String, Object> services = map(at(new Yaml().load(text), "services"));
    Map<ServiceName, Integer> ports = documentedPorts();
    for (ServiceName s : ServiceName.values()) {
      Map<String, Object> svc = map(services.get(s.id()));
      assertThat(svc).as("compose service " + s.id()).isNotEmpty();
      assertThat(imageMain(String.valueOf(svc.get("image"))))
          .as(s.id() + "'s image runs its Main")
          .isEqualTo(mainClass(s));
      Class.forName(mainClass(s)); // the Main it names exists
      Map<String, Object> env = map(svc.get("environment"));
      int port =
          Integer.parseInt(String.valueOf(env.getOrDefault(s.envPrefix() + "PORT", ports.get(s))));
      assertThat(port).as(s.id() + " listens on its documented port").isEqualTo(ports.get(s));
      assertThat(list(svc.get("ports"))).as(s.id()).contains(port + ":" + port);
      for (String v : requiredVariables()) {
        assertThat(env).as(s.id() + " sets " + v).containsKey(v);
      }
    }
    everyVariableDocumented("deploy/compose.yaml", text);
  }

  @Test
  void kubernetesRunsEveryServiceWithProbesOnHealthzAndScalesRelayAndEngine() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(ROOT.resolve("deploy/k8s"))) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    Map<String, Map<String, Object>> byKindAndName = new LinkedHashMap<>();
    for (Path f : files) {
      String text = Files.readString(f, StandardCharsets.UTF_8);
      everyVariableDocumented(ROOT.relativize(f).toString(), text);
      for (Object doc : new Yaml().loadAll(text)) {
        if (doc != null) {
          byKindAndName.put(at(doc, "kind") + "/" + at(doc, "metadata", "name"), map(doc));
        }
      }
    }
    Set<String> provided = new TreeSet<>();
    provided.addAll(map(at(byKindAndName.get("Secret/umbra-env"), "stringData")).keySet());
    provided.addAll(map(at(byKindAndName.get("ConfigMap/umbra-urls"), "data")).keySet());
    assertThat(provided).containsAll(requiredVariables());

    Map<ServiceName, Integer> ports = documentedPorts();
    for (ServiceName s : ServiceName.values()) {
      Map<String, Object> deployment = byKindAndName.get("Deployment/" + s.id());
      assertThat(deployment).as("Deployment " + s.id()).isNotNull();
      Map<String, Object> container =
          map(list(at(deployment, "spec", "template", "spec", "containers")).get(0));
      assertThat(imageMain(String.valueOf(container.get("image"))))
          .as(s.id() + "'s image runs its Main")
          .isEqualTo(mainClass(s));
      Map<String, Object> port = map(list(container.get("ports")).get(0));
      assertThat(port.get("containerPort")).as(s.id()).isEqualTo(ports.get(s));
      for (String probe : List.of("readinessProbe", "livenessProbe")) {
        assertThat(at(container, probe, "httpGet", "path"))
            .as(s.id() + " " + probe)
            .isEqualTo("/healthz");
        assertThat(at(container, probe, "httpGet", "port"))
            .as(s.id() + " " + probe)
            .isEqualTo(port.get("name"));
      }
      List<Object> envFrom = list(container.get("envFrom"));
      assertThat(envFrom.toString()).contains("umbra-env").contains("umbra-urls");
      assertThat(
              at(deployment, "spec", "template", "metadata", "annotations", "prometheus.io/port"))
          .isEqualTo(String.valueOf(ports.get(s)));
      Map<String, Object> service = byKindAndName.get("Service/" + s.id());
      assertThat(service).as("Service " + s.id()).isNotNull();
      assertThat(map(list(at(service, "spec", "ports")).get(0)).get("port"))
          .isEqualTo(ports.get(s));
      assertThat(at(service, "spec", "selector", "app")).isEqualTo(s.id());
    }
    for (ServiceName s : List.of(ServiceName.RELAY, ServiceName.WEBTTY_ENGINE)) {
      Map<String, Object> pdb = byKindAndName.get("PodDisruptionBudget/" + s.id());
      assertThat(pdb).as("PodDisruptionBudget " + s.id()).isNotNull();
      assertThat(at(pdb, "spec", "selector", "matchLabels", "app")).isEqualTo(s.id());
      Map<String, Object> hpa = byKindAndName.get("HorizontalPodAutoscaler/" + s.id());
      assertThat(hpa).as("HorizontalPodAutoscaler " + s.id()).isNotNull();
      assertThat(at(hpa, "spec", "scaleTargetRef", "kind")).isEqualTo("Deployment");
      assertThat(at(hpa, "spec", "scaleTargetRef", "name")).isEqualTo(s.id());
      assertThat((Integer) at(hpa, "spec", "minReplicas")).isGreaterThanOrEqualTo(2);
    }
  }
}
