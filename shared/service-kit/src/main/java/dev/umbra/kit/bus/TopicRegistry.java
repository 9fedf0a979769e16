package dev.umbra.kit.bus;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Which listeners each channel (or each pattern) of {@link RedisBus} has, and when Redis must be
 * told: the first listener of a name causes a SUBSCRIBE, the removal of its last one an
 * UNSUBSCRIBE. A change and the command it causes happen together under this registry's monitor, so
 * the commands are issued in the order the registry changed. That is what closes finding 7 of issue
 * 13 (docs/security.md, "Bus subscriptions"): with {@code computeIfAbsent} then {@code get} and an
 * unsubscribe outside any lock, a subscribe racing the removal of the last listener of the same
 * name could throw, join a list already dropped, or have its SUBSCRIBE overtaken by the late
 * UNSUBSCRIBE, leaving Redis unsubscribed while a listener waits.
 *
 * <p>No I/O here: commands go to a {@link Commands} sink, which only queues them. Reads for
 * delivery ({@link #listeners}) and for re-subscribing a new connection ({@link #names}) take no
 * lock. {@code TopicRegistryTest} checks the ordering under concurrency.
 *
 * @param <L> a listener
 * @param <R> what the sink returns for a command, e.g. the future of its reply
 */
final class TopicRegistry<L, R> {

  /**
   * Where the registry's commands go. Called with the registry's monitor held, in the order the
   * commands must reach Redis, so an implementation queues and never blocks.
   */
  interface Commands<R> {
    /** SUBSCRIBE to {@code name}; every listener of the name waits for what this returns. */
    R subscribe(String name);

    /** UNSUBSCRIBE from {@code name}, its last listener being gone. */
    R unsubscribe(String name);
  }

  /** One name's listeners, and its SUBSCRIBE as the sink returned it. */
  private static final class Topic<L, R> {
    final List<L> listeners = new CopyOnWriteArrayList<>();
    final R subscribed;

    Topic(R subscribed) {
      this.subscribed = subscribed;
    }
  }

  /** A listener's place in the registry, what {@link #remove} and {@link #abandon} take back. */
  static final class Registration<L, R> {
    private final String name;
    private final L listener;
    private final Topic<L, R> topic;

    private Registration(String name, L listener, Topic<L, R> topic) {
      this.name = name;
      this.listener = listener;
      this.topic = topic;
    }

    /**
     * The SUBSCRIBE the listener waits for: its own, or the one of the listener that came first.
     */
    R subscribed() {
      return topic.subscribed;
    }
  }

  private final Commands<R> commands;

  /** Changed only under the monitor; a name is here exactly while Redis is (being) subscribed. */
  private final Map<String, Topic<L, R>> topics = new ConcurrentHashMap<>();

  TopicRegistry(Commands<R> commands) {
    this.commands = commands;
  }

  /** Adds {@code listener} to {@code name}, subscribing the name if it had no listener. */
  synchronized Registration<L, R> add(String name, L listener) {
    Topic<L, R> topic = topics.get(name);
    if (topic == null) {
      topic = new Topic<>(commands.subscribe(name));
      topics.put(name, topic);
    }
    topic.listeners.add(listener);
    return new Registration<>(name, listener, topic);
  }

  /**
   * Removes the listener; when it was the last of its name, unsubscribes the name and returns that
   * command. Removing twice does nothing the second time.
   */
  synchronized Optional<R> remove(Registration<L, R> registration) {
    Topic<L, R> topic = registration.topic;
    if (!topic.listeners.remove(registration.listener)
        || !topic.listeners.isEmpty()
        || topics.get(registration.name) != topic) {
      return Optional.empty();
    }
    topics.remove(registration.name);
    return Optional.of(commands.unsubscribe(registration.name));
  }

  /**
   * The listener's SUBSCRIBE failed: removes it and forgets its topic, so the next listener of the
   * name subscribes again instead of sharing the failure (no UNSUBSCRIBE: Redis is not subscribed).
   */
  synchronized void abandon(Registration<L, R> registration) {
    registration.topic.listeners.remove(registration.listener);
    topics.remove(registration.name, registration.topic);
  }

  /** The listeners of {@code name} now; iterating the list is safe while it changes. */
  List<L> listeners(String name) {
    Topic<L, R> topic = topics.get(name);
    return topic == null ? List.of() : Collections.unmodifiableList(topic.listeners);
  }

  /** The names subscribed or being subscribed, what a new subscriber connection subscribes to. */
  Set<String> names() {
    return Collections.unmodifiableSet(topics.keySet());
  }

  boolean isEmpty() {
    return topics.isEmpty();
  }

  /** Forgets every name without commands: the bus is closing its connection. */
  synchronized void clear() {
    topics.clear();
  }
}
