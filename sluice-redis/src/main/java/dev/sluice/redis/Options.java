package dev.sluice.redis;

import dev.sluice.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * The options of a {@link RedisStore.Factory}, each checked when set (the messages name the
 * bound). Immutable.
 *
 * @param deadline the longest a call may take
 * @param namespace the first part of every key
 * @param breakerFailures consecutive failures that open the circuit breaker
 * @param breakerOpen how long the open breaker fails calls before a probe
 * @param denyCache whether refusals are remembered on this node
 * @param clocks each store's clocks, from the ticker it is created with (Redis's, but in tests)
 */
record Options(Duration deadline, String namespace, int breakerFailures, Duration breakerOpen,
    boolean denyCache, Function<Ticker, Clocks> clocks) {

  static final Duration MIN_DEADLINE = Duration.ofMillis(1);
  static final Duration MAX_DEADLINE = Duration.ofSeconds(60);

  static final Options DEFAULT = new Options(
      Duration.ofMillis(RedisStore.DEFAULT_DEADLINE_MILLIS), RedisStore.DEFAULT_NAMESPACE,
      5, Duration.ofMillis(250), true, ticker -> Clocks.REDIS);

  Options withDeadline(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.compareTo(MIN_DEADLINE) < 0 || deadline.compareTo(MAX_DEADLINE) > 0) {
      throw new IllegalArgumentException(
          "deadline (" + deadline + ") must be between " + MIN_DEADLINE + " and " + MAX_DEADLINE);
    }
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks);
  }

  Options withNamespace(String namespace) {
    RedisKeys.checkNamespace(Objects.requireNonNull(namespace, "namespace"));
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks);
  }

  Options withCircuitBreaker(int failures, Duration openFor) {
    Objects.requireNonNull(openFor, "openFor");
    if (failures < 1 || failures > 1_000) {
      throw new IllegalArgumentException(
          "circuit breaker failures (" + failures + ") must be between 1 and 1000");
    }
    if (openFor.compareTo(Duration.ofMillis(1)) < 0
        || openFor.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException(
          "circuit breaker openFor (" + openFor + ") must be between PT0.001S and PT10M");
    }
    return new Options(deadline, namespace, failures, openFor, denyCache, clocks);
  }

  Options withDenyCache(boolean enabled) {
    return new Options(deadline, namespace, breakerFailures, breakerOpen, enabled, clocks);
  }

  Options withClocks(Function<Ticker, Clocks> clocks) {
    Objects.requireNonNull(clocks, "clocks");
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks);
  }

  @Override
  public String toString() {
    return "deadline=" + deadline.toMillis() + "ms, namespace=" + namespace + ", circuitBreaker="
        + breakerFailures + "/" + breakerOpen.toMillis() + "ms, denyCache=" + denyCache;
  }
}
