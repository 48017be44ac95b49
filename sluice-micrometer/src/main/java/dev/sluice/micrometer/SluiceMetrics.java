package dev.sluice.micrometer;

import dev.sluice.Decision;
import dev.sluice.RateLimitListener;
import dev.sluice.RateLimiter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters for Sluice limiters. Register it as a limiter's listener, then bind the
 * limiter for the meters it keeps itself:
 *
 * <pre>{@code
 * SluiceMetrics metrics = new SluiceMetrics(registry);
 * RateLimiter<String> limiter = RateLimiter.builder(limit).name("api").listener(metrics).build();
 * metrics.bind(limiter);
 * }</pre>
 *
 * <p>Meters, each tagged {@code limiter=<name>} and never by key (a tag per key would be
 * unbounded cardinality):
 * <ul>
 *   <li>{@code sluice.decisions} (counter), tag {@code result=allowed|denied}: decisions made by
 *       the store;</li>
 *   <li>{@code sluice.failure_mode.decisions} (counter), tags {@code mode=open|closed|local} and
 *       {@code result}: decisions made by the failure mode because the store could not;</li>
 *   <li>{@code sluice.decision.latency} (timer): time spent deciding, failure-mode decisions
 *       included;</li>
 *   <li>{@code sluice.backend.errors} (counter): store failures;</li>
 *   <li>{@code sluice.evictions} (function counter) and {@code sluice.keys} (gauge), read from
 *       the limiter on scrape, after {@link #bind}.</li>
 * </ul>
 *
 * <p>One instance may serve many limiters. Meters are created on first use and cached, so a
 * decision costs a map lookup and a counter increment.
 */
public final class SluiceMetrics implements RateLimitListener {

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Meters> byLimiter = new ConcurrentHashMap<>();

  /**
   * Creates the binding.
   *
   * @param registry where meters go
   */
  public SluiceMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /**
   * Registers the meters a limiter keeps itself: {@code sluice.keys} (only if its store can
   * count keys: a Redis store cannot) and {@code sluice.evictions}. The registry holds the
   * limiter weakly, as Micrometer gauges do.
   *
   * @param limiter the limiter, registered with this listener
   * @return this
   */
  public SluiceMetrics bind(RateLimiter<?> limiter) {
    Objects.requireNonNull(limiter, "limiter");
    if (limiter.size() >= 0) {
      // a store that cannot count its keys (Redis) reports -1: no gauge rather than a false one
      Gauge.builder("sluice.keys", limiter, l -> l.size())
          .description("Keys whose buckets the limiter holds")
          .tag("limiter", limiter.name())
          .register(registry);
    }
    FunctionCounter.builder("sluice.evictions", limiter, l -> l.evictions())
        .description("Buckets evicted before they were full")
        .tag("limiter", limiter.name())
        .register(registry);
    meters(limiter.name());
    return this;
  }

  private Meters meters(String limiter) {
    Meters m = byLimiter.get(limiter);
    return m != null ? m : byLimiter.computeIfAbsent(limiter, name -> new Meters(registry, name));
  }

  @Override
  public void onDecision(String limiter, boolean allowed, Decision.Source source, long latencyNanos) {
    Meters m = meters(limiter);
    m.latency.record(latencyNanos, TimeUnit.NANOSECONDS);
    switch (source) {
      case STORE -> (allowed ? m.allowed : m.denied).increment();
      case FAILURE_OPEN -> m.openAllowed.increment();
      case FAILURE_CLOSED -> m.closedDenied.increment();
      case LOCAL_FALLBACK -> (allowed ? m.localAllowed : m.localDenied).increment();
    }
  }

  @Override
  public void onBackendError(String limiter, Throwable error) {
    meters(limiter).backendErrors.increment();
  }

  /** The meters of one limiter, created once. */
  private static final class Meters {
    final Counter allowed;
    final Counter denied;
    final Counter openAllowed;
    final Counter closedDenied;
    final Counter localAllowed;
    final Counter localDenied;
    final Counter backendErrors;
    final Timer latency;

    Meters(MeterRegistry registry, String limiter) {
      allowed = decisions(registry, limiter, "allowed");
      denied = decisions(registry, limiter, "denied");
      openAllowed = failureMode(registry, limiter, "open", "allowed");
      closedDenied = failureMode(registry, limiter, "closed", "denied");
      localAllowed = failureMode(registry, limiter, "local", "allowed");
      localDenied = failureMode(registry, limiter, "local", "denied");
      backendErrors = Counter.builder("sluice.backend.errors")
          .description("Store failures; the failure mode decided instead")
          .tag("limiter", limiter)
          .register(registry);
      latency = Timer.builder("sluice.decision.latency")
          .description("Time spent deciding")
          .tag("limiter", limiter)
          .register(registry);
    }

    private static Counter decisions(MeterRegistry registry, String limiter, String result) {
      return Counter.builder("sluice.decisions")
          .description("Decisions made by the store")
          .tag("limiter", limiter)
          .tag("result", result)
          .register(registry);
    }

    private static Counter failureMode(
        MeterRegistry registry, String limiter, String mode, String result) {
      return Counter.builder("sluice.failure_mode.decisions")
          .description("Decisions made by the failure mode because the store could not")
          .tag("limiter", limiter)
          .tag("mode", mode)
          .tag("result", result)
          .register(registry);
    }
  }
}
