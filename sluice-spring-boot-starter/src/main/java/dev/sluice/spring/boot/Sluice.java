package dev.sluice.spring.boot;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimitListener;
import dev.sluice.RateLimiter;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.Rule;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spring.boot.Settings.RuleSettings;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The rate limits the starter built from the {@code sluice.*} properties: the
 * {@link HttpLimiter} the filters decide with, and its rules' plans, which
 * {@link #reconfigure} changes in place (every bucket keeps its state by the carry-over rule).
 * One bean per application; thread-safe.
 */
public final class Sluice implements AutoCloseable {

  private final HttpLimiter limiter;
  /** Each rule's plans (a rule with its own limits has one plan, named after the rule). */
  private final Map<String, Plans<String>> plans;
  private final String store;
  private final AutoCloseable closer;
  /** Decides on the store for a key of its own, to tell whether the store answers. */
  private final RateLimiter<String> probe;
  private final RateStoreFactory storeFactory;
  /** The limiters of {@link RateLimited} methods, one per rule, made at the first call. */
  private final java.util.concurrent.ConcurrentHashMap<String, RateLimiter<String>> methods =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** The key of the call deciding on this thread, for the plans of a method limiter. */
  private static final ThreadLocal<String> CALL_KEY = new ThreadLocal<>();
  private final RateLimitListener listener;
  private final java.util.function.Supplier<Map<String, String>> breakers;
  /** The shape the limiter was built with: what a live change cannot alter. */
  private final String shape;
  private volatile Settings settings;
  private volatile List<String> pending = List.of();

  private Sluice(Settings settings, HttpLimiter limiter, Map<String, Plans<String>> plans,
      String store, AutoCloseable closer, RateLimiter<String> probe, RateStoreFactory factory,
      RateLimitListener listener, java.util.function.Supplier<Map<String, String>> breakers) {
    this.breakers = breakers;
    this.storeFactory = factory;
    this.listener = listener;
    this.closer = closer;
    this.probe = probe;
    this.settings = settings;
    this.limiter = limiter;
    this.plans = plans;
    this.store = store;
    this.shape = settings.shape();
  }

  /**
   * Builds the limits from properties.
   *
   * @param properties the {@code sluice.*} properties
   * @param store where buckets live
   * @param storeDescription what the store is, for the actuator endpoint
   * @param listener receives every decision (metrics), or null
   * @param closer closes what the starter opened for the store, after the limiters
   * @param breakers the circuit breakers' states of the store's limiters, by name
   * @return the limits
   * @throws IllegalArgumentException naming the first property out of its bounds
   */
  static Sluice create(SluiceProperties properties, RateStoreFactory store,
      String storeDescription, RateLimitListener listener, AutoCloseable closer,
      java.util.function.Supplier<Map<String, String>> breakers) {
    Settings s = Settings.of(properties);
    HttpLimiter.Builder b = HttpLimiter.builder()
        .headers(s.headers.toArray(HeaderGroup[]::new))
        .onMissingKey(s.missingKey)
        .store(store)
        .failureMode(properties.failureMode());
    if (!s.exempt.isEmpty()) {
      b.exempt(s.exempt.toArray(String[]::new));
    }
    if (listener != null) {
      b.listener(listener);
    }
    Map<String, Plans<String>> plans = new LinkedHashMap<>();
    for (RuleSettings r : s.rules) {
      Plans<String> p = plans(r);
      plans.put(r.name(), p);
      Rule.Builder rb = Rule.builder(r.name(), p).key(r.key()).permits(r.cost())
          .shadow(r.shadow()).maxWait(r.maxWait());
      if (!r.paths().isEmpty()) {
        rb.paths(r.paths().toArray(String[]::new));
      }
      if (!r.methods().isEmpty()) {
        rb.methods(r.methods().toArray(String[]::new));
      }
      if (r.chargeOn().length > 0) {
        rb.chargeOn(r.chargeOn());
      }
      b.rule(rb.build());
    }
    HttpLimiter built = s.rules.isEmpty() ? null : b.build(); // empty: a Gateway's routes only
    RateLimiter<String> probe;
    try {
      probe = RateLimiter.builder(Limit.perSecond(1_000_000)).name("sluice-health").store(store)
          .failureMode(FailureMode.CLOSED).build();
    } catch (RuntimeException | Error e) {
      if (built != null) {
        built.close();
      }
      throw e;
    }
    return new Sluice(s, built, plans, storeDescription, closer, probe, store, listener,
        breakers);
  }

  private static Plans<String> plans(RuleSettings r) {
    Plans.Builder<String> b = Plans.builder();
    r.policies().forEach(b::plan);
    Expressions.Compiled e = r.planExpression();
    if (e != null) {
      String prefix = r.keyPrefix();
      b.assign(material -> {
        String key = material.startsWith(prefix) ? material.substring(prefix.length()) : material;
        HttpServletRequest request = Expressions.current();
        String plan = e.evaluate(request, Expressions.principal(request), key);
        if (plan == null || !r.policies().containsKey(plan)) {
          throw new IllegalStateException(e.path() + " (" + e.text() + ") gave "
              + (plan == null ? "null" : "\"" + plan + "\"") + ", not one of "
              + r.policies().keySet());
        }
        return plan;
      });
    }
    return b.build();
  }

  /** Where the buckets live: the memory store or the Redis store the starter chose. */
  RateStoreFactory storeFactory() {
    return storeFactory;
  }

  /** Every plan of {@code sluice.plans}, checked, as configured at startup or last change. */
  Map<String, Policy> planPolicies() {
    return settings.plans;
  }

  /** The header groups of {@code sluice.headers}. */
  List<HeaderGroup> headerGroups() {
    return settings.headers;
  }

  /**
   * The HTTP limiter every filter decides with.
   *
   * @return the limiter
   * @throws IllegalStateException if {@code sluice.rules} is empty (allowed in a Spring Cloud
   *     Gateway application, whose routes are then the only limits)
   */
  public HttpLimiter httpLimiter() {
    if (limiter == null) {
      throw new IllegalStateException("sluice.rules is empty: no HTTP limiter (the Gateway's"
          + " routes are the only limits)");
    }
    return limiter;
  }

  /** Whether {@code sluice.rules} holds a rule: false in a Gateway application limiting routes only. */
  boolean hasRules() {
    return limiter != null;
  }

  /**
   * The properties now in force.
   *
   * @return the properties
   */
  public SluiceProperties properties() {
    return settings.properties;
  }

  /**
   * The plans of a rule and their current policies (a rule with its own limits has one plan,
   * named after the rule).
   *
   * @param rule the rule's name
   * @return the plans, in order
   * @throws IllegalArgumentException if there is no such rule
   */
  public Map<String, Policy> plans(String rule) {
    Plans<String> p = plans.get(rule);
    if (p == null) {
      throw new IllegalArgumentException("no rule is named \"" + rule + "\"");
    }
    return p.plans();
  }

  /**
   * What the store is ({@code memory}, or the Redis server).
   *
   * @return a description
   */
  public String store() {
    return store;
  }

  /**
   * Whether the store answers now: one decision on a key of its own (for the health contributor
   * and the actuator endpoint).
   *
   * @return {@code store} and {@code reachable} (true or false), and the error if it failed
   */
  public Map<String, Object> storeHealth() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("store", store);
    try {
      Decision d = probe.decide("probe", 1);
      out.put("reachable", d.source() == Decision.Source.STORE);
    } catch (RuntimeException e) {
      out.put("reachable", false);
      out.put("error", e.toString());
    }
    return out;
  }

  /**
   * The state of each Redis store's circuit breaker ({@code closed}, {@code open} or
   * {@code half-open}), by limiter name: each rule, the health probe ({@code sluice-health}) and
   * each {@link RateLimited} rule used ({@code <rule>.method}). Empty for the memory store.
   *
   * @return the states, by name
   */
  public Map<String, String> breakers() {
    return breakers.get();
  }

  /**
   * Decides a {@link RateLimited} call: {@code cost} permits from {@code key}'s bucket under the
   * rule's plan or limits (buckets of their own, apart from the rule's HTTP buckets; the rule's
   * live changes apply to both).
   *
   * @param rule the rule's name
   * @param key the call's key; the rule's plan expression sees it as {@code #key}
   * @param cost permits, at least 1
   * @return the decision
   * @throws IllegalArgumentException if there is no such rule or the cost is below 1
   */
  public Decision decideCall(String rule, String key, long cost) {
    Objects.requireNonNull(key, "key");
    if (cost < 1) {
      throw new IllegalArgumentException("cost (" + cost + ") must be at least 1");
    }
    RateLimiter<String> l = methods.computeIfAbsent(rule, this::methodLimiter);
    String previous = CALL_KEY.get();
    CALL_KEY.set(key);
    try {
      return l.decide(hash(key), cost);
    } finally {
      if (previous == null) {
        CALL_KEY.remove();
      } else {
        CALL_KEY.set(previous);
      }
    }
  }

  private RateLimiter<String> methodLimiter(String rule) {
    Plans<String> p = plans.get(rule);
    if (p == null) {
      throw new IllegalArgumentException("@RateLimited(rule = \"" + rule
          + "\") names no rule of sluice.rules " + plans.keySet());
    }
    RateLimiter.Builder b = RateLimiter.builder(p.keyedBy(hashed -> CALL_KEY.get()))
        .name((rule + ".method").length() <= 64 ? rule + ".method" : rule)
        .store(storeFactory).failureMode(failureMode());
    if (listener != null) {
      b.listener(listener);
    }
    return b.build();
  }

  /** A call's key as the store sees it: SHA-256, base64url (keys may be personal data). */
  private static String hash(String key) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return "m:" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * What the rules answer when the store cannot decide.
   *
   * @return the failure mode
   */
  public FailureMode failureMode() {
    return settings.properties.failureMode();
  }

  /**
   * Changes the limits in place: every plan's policy (and every rule's own limits) takes the
   * value {@code properties} give it, at the next request of each key, which keeps its permits
   * by the carry-over rule. Everything else (rules, paths, keys, plan names, the store...) is
   * fixed when the application starts; such changes are returned, not applied.
   *
   * @param properties the new properties
   * @return the changes not applied, needing a restart (empty if all were applied)
   * @throws IllegalArgumentException naming the first property out of its bounds; then nothing
   *     is applied
   */
  public synchronized List<String> reconfigure(SluiceProperties properties) {
    Settings next = Settings.of(Objects.requireNonNull(properties, "properties"));
    List<String> ignored = new ArrayList<>();
    if (!next.shape().equals(shape)) {
      ignored.add("only limits change live; restart to apply: " + next.shape());
    }
    for (RuleSettings r : next.rules) {
      Plans<String> p = plans.get(r.name());
      if (p == null) {
        continue; // a new rule: reported above
      }
      Map<String, Policy> current = p.plans();
      r.policies().forEach((plan, policy) -> {
        if (current.containsKey(plan) && !current.get(plan).equals(policy)) {
          p.update(plan, policy);
        }
      });
    }
    settings = next;
    pending = List.copyOf(ignored);
    return pending;
  }

  /**
   * The changes of the last {@link #reconfigure} that need a restart.
   *
   * @return the changes, empty if none
   */
  public List<String> pendingChanges() {
    return pending;
  }

  /** Closes the limiters, then what the starter opened for the store (never the application's client). */
  @Override
  public void close() {
    try {
      methods.values().forEach(RateLimiter::close);
      probe.close();
      if (limiter != null) {
        limiter.close();
      }
    } finally {
      try {
        closer.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing the store failed", e);
      }
    }
  }

  @Override
  public String toString() {
    return "Sluice" + (limiter == null ? List.of() : limiter.rules());
  }
}
