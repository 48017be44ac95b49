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
 * unbounded cardinality); every tag has a fixed, small set of values:
 * <ul>
 *   <li>{@code sluice.decisions} (counter), tags {@code result=allowed|denied} and
 *       {@code shadow=false|true}: decisions made by the store; a limiter in shadow mode
 *       ({@link RateLimiter.Builder#shadow}) counts under {@code shadow=true}, its
 *       {@code result=denied} being the requests it would have refused and let through;</li>
 *   <li>{@code sluice.failure_mode.decisions} (counter), tags {@code mode=open|closed|local},
 *       {@code result} and {@code shadow}: decisions made by the failure mode because the store
 *       could not;</li>
 *   <li>{@code sluice.near_limit} (counter), tag {@code shadow}: admissions that left their key at
 *       or below the limiter's near-limit fraction of the binding limit's capacity
 *       ({@link RateLimiter.Builder#nearLimit});</li>
 *   <li>{@code sluice.decision.latency} (timer): time spent deciding, failure-mode decisions
 *       included;</li>
 *   <li>{@code sluice.backend.errors} (counter): store failures;</li>
 *   <li>{@code sluice.evictions} (function counter) and {@code sluice.keys} (gauge), read from
 *       the limiter on scrape, after {@link #bind}.</li>
 * </ul>
 *
 * <p>One instance may serve many limiters, told apart by name. Meters are created on first use
 * and cached, so a decision costs a map lookup and a counter increment; the {@code shadow=true}
 * meters of a limiter only once it has made a shadow decision, so an enforcing limiter shows
 * none. A limiter's near-limit events are counted under {@code shadow=true} once it has made a
 * shadow decision (a limiter is in shadow mode or not for its whole life).
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
   * count keys: a Redis store cannot), {@code sluice.evictions}, {@code sluice.store.state.lost}
   * (a Redis restarted without its data or flushed, {@link RateLimiter#stateLosses()}) and the
   * gauge {@code sluice.store.nodes} ({@link RateLimiter#liveNodes()}). The
   * registry holds the limiter weakly, as Micrometer gauges do.
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
    FunctionCounter.builder("sluice.store.state.lost", limiter, l -> l.stateLosses())
        .description("Times the store found its backend had lost the buckets (all full again)")
        .tag("limiter", limiter.name())
        .register(registry);
    Gauge.builder("sluice.store.nodes", limiter, l -> l.liveNodes())
        .description("Live nodes sharing the store, as it last counted them (LOCAL enforces 1/N)")
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
    m.enforcing.count(allowed, source);
  }

  /** A shadow decision: counted as {@link #onDecision} would, under {@code shadow=true}. */
  @Override
  public void onShadowDecision(
      String limiter, boolean allowed, Decision.Source source, long latencyNanos) {
    Meters m = meters(limiter);
    m.latency.record(latencyNanos, TimeUnit.NANOSECONDS);
    m.shadow().count(allowed, source);
  }

  @Override
  public void onNearLimit(String limiter, long remaining, long capacity) {
    Meters m = meters(limiter);
    Results shadow = m.shadow;
    (shadow != null ? shadow : m.enforcing).nearLimit.increment();
  }

  @Override
  public void onBackendError(String limiter, Throwable error) {
    meters(limiter).backendErrors.increment();
  }

  /** The meters of one limiter, created once (its shadow ones on its first shadow decision). */
  private static final class Meters {
    final MeterRegistry registry;
    final String limiter;
    final Results enforcing;
    /** Null until the limiter's first shadow decision. */
    volatile Results shadow;
    final Counter backendErrors;
    final Timer latency;

    Meters(MeterRegistry registry, String limiter) {
      this.registry = registry;
      this.limiter = limiter;
      enforcing = new Results(registry, limiter, "false");
      backendErrors = Counter.builder("sluice.backend.errors")
          .description("Store failures; the failure mode decided instead")
          .tag("limiter", limiter)
          .register(registry);
      latency = Timer.builder("sluice.decision.latency")
          .description("Time spent deciding")
          .tag("limiter", limiter)
          .register(registry);
    }

    Results shadow() {
      Results r = shadow;
      if (r == null) {
        synchronized (this) {
          r = shadow;
          if (r == null) {
            r = new Results(registry, limiter, "true");
            shadow = r;
          }
        }
      }
      return r;
    }
  }

  /** The counters of one limiter's decisions, enforcing ({@code shadow=false}) or shadow. */
  private static final class Results {
    final Counter allowed;
    final Counter denied;
    final Counter openAllowed;
    final Counter closedDenied;
    final Counter localAllowed;
    final Counter localDenied;
    final Counter nearLimit;

    Results(MeterRegistry registry, String limiter, String shadow) {
      allowed = decisions(registry, limiter, "allowed", shadow);
      denied = decisions(registry, limiter, "denied", shadow);
      openAllowed = failureMode(registry, limiter, "open", "allowed", shadow);
      closedDenied = failureMode(registry, limiter, "closed", "denied", shadow);
      localAllowed = failureMode(registry, limiter, "local", "allowed", shadow);
      localDenied = failureMode(registry, limiter, "local", "denied", shadow);
      nearLimit = Counter.builder("sluice.near_limit")
          .description("Admissions that left their key at or below the near-limit fraction of"
              + " its capacity")
          .tag("limiter", limiter)
          .tag("shadow", shadow)
          .register(registry);
    }

    void count(boolean allowed, Decision.Source source) {
      switch (source) {
        case STORE -> (allowed ? this.allowed : denied).increment();
        case LEASE -> this.allowed.increment();
        case DENY_CACHE -> denied.increment();
        case FAILURE_OPEN -> openAllowed.increment();
        case FAILURE_CLOSED -> closedDenied.increment();
        case LOCAL_FALLBACK -> (allowed ? localAllowed : localDenied).increment();
      }
    }

    private static Counter decisions(
        MeterRegistry registry, String limiter, String result, String shadow) {
      return Counter.builder("sluice.decisions")
          .description("Decisions made by the store")
          .tag("limiter", limiter)
          .tag("result", result)
          .tag("shadow", shadow)
          .register(registry);
    }

    private static Counter failureMode(
        MeterRegistry registry, String limiter, String mode, String result, String shadow) {
      return Counter.builder("sluice.failure_mode.decisions")
          .description("Decisions made by the failure mode because the store could not")
          .tag("limiter", limiter)
          .tag("mode", mode)
          .tag("result", result)
          .tag("shadow", shadow)
          .register(registry);
    }
  }
}
