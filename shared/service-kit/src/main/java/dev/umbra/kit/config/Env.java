package dev.umbra.kit.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Typed, validated reads of environment variables. Every failure is a {@link ConfigException}
 * naming the variable, so a service can stop with one clear line.
 */
public final class Env {
  private final Map<String, String> values;

  public Env(Map<String, String> values) {
    this.values = Map.copyOf(values);
  }

  public static Env system() {
    return new Env(System.getenv());
  }

  public Optional<String> optional(String name) {
    String v = values.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  public String string(String name, String defaultValue) {
    return optional(name).orElse(defaultValue);
  }

  public int port(String name, int defaultValue) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    try {
      int port = Integer.parseInt(raw.get());
      if (port < 0 || port > 65535) {
        throw new ConfigException(name, "port must be between 0 and 65535, got " + port);
      }
      return port;
    } catch (NumberFormatException e) {
      throw new ConfigException(name, "expected a port number, got '" + raw.get() + "'");
    }
  }

  public int positiveInt(String name, int defaultValue) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    try {
      int v = Integer.parseInt(raw.get());
      if (v <= 0) {
        throw new ConfigException(name, "must be a positive integer, got " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ConfigException(name, "expected a positive integer, got '" + raw.get() + "'");
    }
  }

  /** A whole number in [{@code min}, {@code max}]; anything else stops the service, named. */
  public int boundedInt(String name, int defaultValue, int min, int max) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    try {
      int v = Integer.parseInt(raw.get().trim());
      if (v < min || v > max) {
        throw new ConfigException(name, "must be between " + min + " and " + max + ", got " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ConfigException(
          name,
          "expected a whole number between " + min + " and " + max + ", got '" + raw.get() + "'");
    }
  }

  /**
   * A URL with one of the allowed schemes; the value is never echoed because it may hold a
   * password.
   */
  public URI url(String name, String defaultValue, String... schemes) {
    String raw = string(name, defaultValue);
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw new ConfigException(name, "not a valid URL (" + e.getReason() + ")");
    }
    String scheme = uri.getScheme();
    for (String allowed : schemes) {
      if (allowed.equalsIgnoreCase(scheme)) {
        if (uri.getHost() == null) {
          throw new ConfigException(name, "URL has no host");
        }
        return uri;
      }
    }
    throw new ConfigException(
        name, "URL scheme must be one of " + String.join(", ", schemes) + ", got '" + scheme + "'");
  }

  public Path path(String name, Path defaultValue) {
    return optional(name).map(Path::of).orElse(defaultValue).toAbsolutePath();
  }

  public Map<String, String> asMap() {
    return values;
  }
}
