package dev.umbra.proto.api;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Path templates as the APIs document them ({@code /v1/workspaces/{workspace_id}/codes}): filled
 * with URL-encoded values by clients, turned into Vert.x route paths ({@code :workspace_id}) by
 * services that mount on a plain router.
 */
public final class PathTemplates {
  private static final Pattern PARAM = Pattern.compile("\\{([a-z_]+)}");

  private PathTemplates() {}

  /**
   * {@code template} with its {@code {name}} parameters replaced, in order, by {@code values}
   * (their {@code toString()}, URL-encoded as one path segment each).
   *
   * @throws IllegalArgumentException when the counts differ or a value is null or empty
   */
  public static String fill(String template, Object... values) {
    Matcher m = PARAM.matcher(template);
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (m.find()) {
      if (i >= values.length) {
        throw new IllegalArgumentException(template + ": no value for {" + m.group(1) + "}");
      }
      Object v = values[i++];
      if (v == null || v.toString().isEmpty()) {
        throw new IllegalArgumentException(template + ": empty value for {" + m.group(1) + "}");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(segment(v.toString())));
    }
    if (i != values.length) {
      throw new IllegalArgumentException(
          template + ": " + values.length + " values for " + i + " parameters");
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The Vert.x route path of {@code template}: {@code {name}} becomes {@code :name}. */
  public static String vertxRoute(String template) {
    return PARAM.matcher(template).replaceAll(":$1");
  }

  /**
   * A path segment, percent-encoded ({@code URLEncoder} encodes a space as '+', a path wants %20).
   */
  private static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
