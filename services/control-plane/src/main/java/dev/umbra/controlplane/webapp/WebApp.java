package dev.umbra.controlplane.webapp;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Serves the browser app (clients/web, docs/web.md) at {@value #PREFIX}, same origin as the API it
 * calls. The files are read once from the {@code umbra-web} resources jar: {@code index.html} and
 * exactly the files its {@code <script src>} and {@code <link href>} name, each of which gets its
 * Subresource Integrity hash (SHA-384 of the bytes served) written into the page here, so no script
 * is loaded without one. A reference to another origin or outside the app refuses the start. Every
 * answer carries the page's security headers ({@link #headers()}).
 */
public final class WebApp {
  public static final String PREFIX = "/app/";
  static final String ROOT = "umbra-web/app/";
  static final String INDEX = "index.html";

  /**
   * The Content-Security-Policy: only this origin's scripts and styles; the API and the platform's
   * other services ({@code connect-src}: {@link #csp}); no inline script, no plugin, no framing, no
   * form submission (a form that JavaScript failed to handle cannot put a token into a URL), and
   * Trusted Types with no policy, so an {@code innerHTML} of a string throws.
   */
  public static String csp(Collection<String> connectOrigins) {
    List<String> connect = new ArrayList<>(List.of("'self'"));
    connect.addAll(connectOrigins);
    return String.join(
        "; ",
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src " + String.join(" ", connect),
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'");
  }

  /**
   * The origins the page may connect to besides its own: for each of the platform's public URLs
   * (the discovery document's {@code services}), its {@code http(s)://host[:port]} origin and the
   * {@code ws(s)://} origin of the same host and port, in the order given, without repeats. Only
   * the origin is kept (a CSP source with a path would match only that path). A URL that is not
   * plain http(s) with a host refuses the start, so nothing but an origin reaches the header.
   */
  public static List<String> connectOrigins(Collection<URI> publicUrls) {
    Set<String> out = new LinkedHashSet<>();
    for (URI u : publicUrls) {
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      String host = u.getHost();
      if (!(scheme.equals("http") || scheme.equals("https"))
          || host == null
          || !ORIGIN_HOST.matcher(host).matches()
          || u.getRawUserInfo() != null) {
        throw new IllegalStateException(
            "a public URL of the platform is not an http(s) URL with a plain host: " + u);
      }
      String hostPort = host.toLowerCase(Locale.ROOT) + (u.getPort() < 0 ? "" : ":" + u.getPort());
      out.add(scheme + "://" + hostPort);
      out.add((scheme.equals("https") ? "wss" : "ws") + "://" + hostPort);
    }
    return List.copyOf(out);
  }

  /** The headers of every answer under {@value #PREFIX} for a page that may connect to these. */
  public static Map<String, String> headers(Collection<String> connectOrigins) {
    return Map.of(
        "content-security-policy", csp(connectOrigins),
        "x-content-type-options", "nosniff",
        "referrer-policy", "no-referrer",
        "x-frame-options", "DENY",
        "cross-origin-opener-policy", "same-origin",
        "cross-origin-resource-policy", "same-origin",
        "permissions-policy", "camera=(), microphone=(), geolocation=(), usb=(), payment=()");
  }

  private static final Pattern ORIGIN_HOST = Pattern.compile("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]");
  private static final Pattern REFERENCE =
      Pattern.compile("<(script|link)\\b([^>]*?)\\s(src|href)=\"([^\"]*)\"([^>]*)>");
  private static final Pattern SAFE_PATH =
      Pattern.compile("[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9._-]*)*\\.(js|css)");
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8");

  /** A file as served: its bytes, content type and (for a script or style) its SRI value. */
  public record Asset(byte[] bytes, String contentType, String integrity) {}

  private final Map<String, Asset> assets;
  private final Map<String, String> headers;

  private WebApp(Map<String, Asset> assets, Map<String, String> headers) {
    this.assets = assets;
    this.headers = headers;
  }

  /** Reads the app from {@code loader}, allowed to connect to its own origin only (tests). */
  public static WebApp load(ClassLoader loader) {
    return load(loader, List.of());
  }

  /**
   * Reads the app from {@code loader}; a missing file or a foreign reference throws. The page may
   * connect to its own origin and to the origins of {@code publicUrls} ({@link #connectOrigins}).
   */
  public static WebApp load(ClassLoader loader, Collection<URI> publicUrls) {
    Map<String, String> headers = headers(connectOrigins(publicUrls));
    String index = new String(read(loader, INDEX), StandardCharsets.UTF_8);
    Map<String, Asset> assets = new LinkedHashMap<>();
    Matcher m = REFERENCE.matcher(index);
    StringBuilder page = new StringBuilder();
    while (m.find()) {
      String ref = m.group(4);
      if (!SAFE_PATH.matcher(ref).matches() || ref.contains("..")) {
        throw new IllegalStateException(
            "the web app's index.html references '"
                + ref
                + "': only relative paths of this app's own .js/.css files are served");
      }
      if (m.group(0).contains("integrity=")) {
        throw new IllegalStateException(
            "index.html carries its own integrity attribute for " + ref + ": it is computed here");
      }
      byte[] bytes = read(loader, ref);
      String sri = "sha384-" + Base64.getEncoder().encodeToString(sha384(bytes));
      assets.put(ref, new Asset(bytes, type(ref), sri));
      String tag = m.group(0);
      String withSri = tag.substring(0, tag.length() - 1) + " integrity=\"" + sri + "\">";
      m.appendReplacement(page, Matcher.quoteReplacement(withSri));
    }
    m.appendTail(page);
    assets.put(
        INDEX, new Asset(page.toString().getBytes(StandardCharsets.UTF_8), type(INDEX), null));
    return new WebApp(Map.copyOf(assets), headers);
  }

  /** The files served, by path under {@value #PREFIX} ({@value #INDEX} for the page itself). */
  public Map<String, Asset> assets() {
    return assets;
  }

  /**
   * Mounts {@code /app} (a redirect to {@value #PREFIX}) and the files under it, and {@code /}: the
   * control plane's address opened in a browser (what {@code umbra dev} prints first) leads to the
   * app (302: the root may serve something else one day) instead of a JSON "route / not found".
   */
  public void mount(Router router) {
    redirect(router, PREFIX.substring(0, PREFIX.length() - 1), 301);
    redirect(router, "/", 302);
    router.get(PREFIX + "*").handler(this::serve);
  }

  /** GET of exactly {@code path} answers {@code status} to {@value #PREFIX}. */
  private void redirect(Router router, String path, int status) {
    router
        .get(path) // the router matches "/app/" for "/app" too: only the exact path is redirected
        .handler(
            ctx -> {
              if (!ctx.request().path().equals(path)) {
                ctx.next();
                return;
              }
              headers(ctx.response()).setStatusCode(status).putHeader("location", PREFIX).end();
            });
  }

  private void serve(RoutingContext ctx) {
    String path = ctx.request().path().substring(PREFIX.length());
    Asset a = assets.get(path.isEmpty() ? INDEX : path);
    HttpServerResponse res = headers(ctx.response());
    if (a == null) {
      res.setStatusCode(404)
          .putHeader("content-type", "text/plain; charset=utf-8")
          .end("not found");
      return;
    }
    res.putHeader("content-type", a.contentType())
        .putHeader("cache-control", a.integrity() == null ? "no-store" : "no-cache")
        .end(Buffer.buffer(a.bytes()));
  }

  /** The headers of every answer under {@value #PREFIX}. */
  public Map<String, String> headers() {
    return headers;
  }

  private HttpServerResponse headers(HttpServerResponse res) {
    headers.forEach(res::putHeader);
    return res;
  }

  private static String type(String path) {
    String ext = path.substring(path.lastIndexOf('.') + 1);
    String t = TYPES.get(ext);
    if (t == null) {
      throw new IllegalStateException("the web app serves no ." + ext + " file");
    }
    return t;
  }

  private static byte[] read(ClassLoader loader, String path) {
    try (InputStream in = loader.getResourceAsStream(ROOT + path)) {
      if (in == null) {
        throw new IllegalStateException(
            "the web app's " + path + " is missing from the class path (module clients/web)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the web app's " + path, e);
    }
  }

  static byte[] sha384(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-384").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always provides SHA-384", e);
    }
  }

  /** The paths referenced by the page, in order (tests). */
  List<String> referenced() {
    return assets.keySet().stream().filter(p -> !p.equals(INDEX)).toList();
  }
}
