package dev.umbra.controlplane.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a request or response body, built next to the
 * route that reads or writes it. Each schema has two forms: {@link #inline()}, self-contained (what
 * the tests validate real bodies against), and {@link #doc()}, where every {@link #named} schema is
 * a {@code $ref} into {@code #/components/schemas} (what {@code /v1/openapi.json} shows), with
 * {@link #components()} the definitions it refers to.
 *
 * <p>Objects are closed ({@code additionalProperties: false}): a member the document does not name
 * is a drift the response validation in the tests catches.
 */
public final class Schema {
  /** The route reads no body (GET, DELETE, and the few POST/PUT that act on the path alone). */
  public static final Schema NO_BODY = new Schema(null, null, Map.of());

  /** A 204 answer: no body. */
  public static final Schema EMPTY = NO_BODY;

  private static final String REF = "#/components/schemas/";

  private final JsonObject inline;
  private final JsonObject doc;
  private final Map<String, JsonObject> components;

  private Schema(JsonObject inline, JsonObject doc, Map<String, JsonObject> components) {
    this.inline = inline;
    this.doc = doc;
    this.components = components;
  }

  private static Schema leaf(JsonObject j) {
    return new Schema(j, j.copy(), Map.of());
  }

  public boolean isNone() {
    return inline == null;
  }

  public JsonObject inline() {
    return inline == null ? null : inline.copy();
  }

  public JsonObject doc() {
    return doc == null ? null : doc.copy();
  }

  public Map<String, JsonObject> components() {
    return components;
  }

  /** This schema with a description (shown in the document). */
  public Schema describe(String description) {
    JsonObject i = inline.copy().put("description", description);
    JsonObject d =
        doc.containsKey("$ref")
            ? new JsonObject()
                .put("allOf", new JsonArray().add(doc))
                .put("description", description)
            : doc.copy().put("description", description);
    return new Schema(i, d, components);
  }

  /** A reusable schema: a {@code $ref} in the document, inlined for validation. */
  public static Schema named(String name, Schema s) {
    Map<String, JsonObject> c = new LinkedHashMap<>(s.components);
    JsonObject prior = c.put(name, s.doc);
    if (prior != null && !prior.equals(s.doc)) {
      throw new IllegalStateException("two schemas named " + name);
    }
    return new Schema(s.inline, new JsonObject().put("$ref", REF + name), Map.copyOf(c));
  }

  public static Schema string(int min, int max) {
    return leaf(new JsonObject().put("type", "string").put("minLength", min).put("maxLength", max));
  }

  public static Schema string() {
    return leaf(new JsonObject().put("type", "string"));
  }

  /** A short lower-case code such as an error code or an audit reason. */
  public static Schema code() {
    return leaf(new JsonObject().put("type", "string").put("pattern", "^[a-z][a-z0-9_]*$"));
  }

  /** A UUID in its canonical lower-case text. */
  public static Schema uuid() {
    return leaf(
        new JsonObject()
            .put("type", "string")
            .put("format", "uuid")
            .put("pattern", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"));
  }

  /** An RFC 3339 time with offset, as {@code OffsetDateTime.toString()} writes it. */
  public static Schema time() {
    return leaf(new JsonObject().put("type", "string").put("format", "date-time"));
  }

  /** {@code bytes} bytes as lower-case hex (the API accepts either case in requests). */
  public static Schema hex(int bytes) {
    return leaf(
        new JsonObject()
            .put("type", "string")
            .put("pattern", "^[0-9a-fA-F]{" + (2 * bytes) + "}$")
            .put("description", bytes + " bytes, hex"));
  }

  /** Standard base64 with padding (RFC 4648 §4). */
  public static Schema base64() {
    return leaf(
        new JsonObject()
            .put("type", "string")
            .put("contentEncoding", "base64")
            .put("pattern", "^[A-Za-z0-9+/]*={0,2}$"));
  }

  public static Schema integer(long min, long max) {
    return leaf(new JsonObject().put("type", "integer").put("minimum", min).put("maximum", max));
  }

  public static Schema bool() {
    return leaf(new JsonObject().put("type", "boolean"));
  }

  public static Schema oneOf(String... values) {
    JsonArray a = new JsonArray();
    for (String v : values) {
      a.add(v);
    }
    return leaf(new JsonObject().put("type", "string").put("enum", a));
  }

  public static Schema constant(String value) {
    return leaf(new JsonObject().put("const", value));
  }

  /**
   * Any JSON object (a document whose own format is specified elsewhere, e.g. an HPKE envelope).
   */
  public static Schema anyObject(String description) {
    return leaf(new JsonObject().put("type", "object").put("description", description));
  }

  /**
   * Any JSON value, for a member whose parts are checked one by one and refused each in its place
   * of the answer (a batch's messages), so a request with a bad part is still accepted.
   */
  public static Schema anyValue(String description) {
    return leaf(new JsonObject().put("description", description));
  }

  /** {@code s} or JSON {@code null}. */
  public static Schema nullable(Schema s) {
    return new Schema(
        new JsonObject()
            .put("anyOf", new JsonArray().add(s.inline).add(new JsonObject().put("type", "null"))),
        new JsonObject()
            .put("anyOf", new JsonArray().add(s.doc).add(new JsonObject().put("type", "null"))),
        s.components);
  }

  public static Schema array(Schema items) {
    return new Schema(
        new JsonObject().put("type", "array").put("items", items.inline),
        new JsonObject().put("type", "array").put("items", items.doc),
        items.components);
  }

  public static Schema array(Schema items, int min, int max) {
    return new Schema(
        new JsonObject()
            .put("type", "array")
            .put("items", items.inline)
            .put("minItems", min)
            .put("maxItems", max),
        new JsonObject()
            .put("type", "array")
            .put("items", items.doc)
            .put("minItems", min)
            .put("maxItems", max),
        items.components);
  }

  /** A cursor-paged list: {@code {"items":[...],"next_cursor":id|null}} (see {@link Page}). */
  public static Schema page(Schema item) {
    return object()
        .required("items", array(item, 0, Page.MAX_LIMIT))
        .required("next_cursor", nullable(uuid()))
        .build();
  }

  /** An unpaged list: {@code {"items":[...]}}. */
  public static Schema list(Schema item) {
    return object().required("items", array(item)).build();
  }

  public static ObjectBuilder object() {
    return new ObjectBuilder();
  }

  /** A closed object: named members, required or optional. */
  public static final class ObjectBuilder {
    private final JsonObject inlineProps = new JsonObject();
    private final JsonObject docProps = new JsonObject();
    private final JsonArray required = new JsonArray();
    private final Map<String, JsonObject> components = new LinkedHashMap<>();

    private ObjectBuilder() {}

    public ObjectBuilder required(String name, Schema s) {
      required.add(name);
      return optional(name, s);
    }

    public ObjectBuilder optional(String name, Schema s) {
      if (inlineProps.containsKey(name)) {
        throw new IllegalStateException("member " + name + " twice");
      }
      inlineProps.put(name, s.inline);
      docProps.put(name, s.doc);
      s.components.forEach(
          (k, v) -> {
            JsonObject prior = components.put(k, v);
            if (prior != null && !prior.equals(v)) {
              throw new IllegalStateException("two schemas named " + k);
            }
          });
      return this;
    }

    public Schema build() {
      return new Schema(
          new JsonObject()
              .put("type", "object")
              .put("properties", inlineProps)
              .put("required", required.copy())
              .put("additionalProperties", false),
          new JsonObject()
              .put("type", "object")
              .put("properties", docProps)
              .put("required", required.copy())
              .put("additionalProperties", false),
          Map.copyOf(components));
    }
  }
}
