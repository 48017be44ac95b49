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
 * @param leaseLife the life of a lease of a hot key's permits, or null: no leasing
 */
record Options(Duration deadline, String namespace, int breakerFailures, Duration breakerOpen,
    boolean denyCache, Function<Ticker, Clocks> clocks, Duration leaseLife) {

  static final Duration MIN_DEADLINE = Duration.ofMillis(1);
  static final Duration MAX_DEADLINE = Duration.ofSeconds(60);

  static final Options DEFAULT = new Options(
      Duration.ofMillis(RedisStore.DEFAULT_DEADLINE_MILLIS), RedisStore.DEFAULT_NAMESPACE,
      5, Duration.ofMillis(250), true, ticker -> Clocks.REDIS, null);

  Options withDeadline(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.compareTo(MIN_DEADLINE) < 0 || deadline.compareTo(MAX_DEADLINE) > 0) {
      throw new IllegalArgumentException(
          "deadline (" + deadline + ") must be between " + MIN_DEADLINE + " and " + MAX_DEADLINE);
    }
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks,
        leaseLife);
  }

  Options withNamespace(String namespace) {
    RedisKeys.checkNamespace(Objects.requireNonNull(namespace, "namespace"));
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks,
        leaseLife);
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
    return new Options(deadline, namespace, failures, openFor, denyCache, clocks,
        leaseLife);
  }

  Options withDenyCache(boolean enabled) {
    return new Options(deadline, namespace, breakerFailures, breakerOpen, enabled, clocks,
        leaseLife);
  }

  Options withClocks(Function<Ticker, Clocks> clocks) {
    Objects.requireNonNull(clocks, "clocks");
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks,
        leaseLife);
  }

  static final Duration MIN_LEASE_LIFE = Duration.ofMillis(10);
  static final Duration MAX_LEASE_LIFE = Duration.ofMinutes(1);

  Options withLeasing(Duration life) {
    Objects.requireNonNull(life, "life");
    if (life.compareTo(MIN_LEASE_LIFE) < 0 || life.compareTo(MAX_LEASE_LIFE) > 0) {
      throw new IllegalArgumentException(
          "lease life (" + life + ") must be between " + MIN_LEASE_LIFE + " and " + MAX_LEASE_LIFE);
    }
    return new Options(deadline, namespace, breakerFailures, breakerOpen, denyCache, clocks, life);
  }

  @Override
  public String toString() {
    return "deadline=" + deadline.toMillis() + "ms, namespace=" + namespace + ", circuitBreaker="
        + breakerFailures + "/" + breakerOpen.toMillis() + "ms, denyCache=" + denyCache
        + (leaseLife == null ? "" : ", leasing=" + leaseLife.toMillis() + "ms");
  }
}
