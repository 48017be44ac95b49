package dev.sluice.gateway;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.http.DecisionHeaders;
import dev.sluice.http.HeaderGroup;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.cloud.gateway.event.FilterArgsEvent;
import org.springframework.cloud.gateway.filter.ratelimit.AbstractRateLimiter;
import org.springframework.cloud.gateway.route.RouteDefinitionRouteLocator;
import org.springframework.cloud.gateway.support.ConfigurationService;
import reactor.core.publisher.Mono;

/**
 * A Spring Cloud Gateway {@code RateLimiter} backed by Sluice, for {@code RequestRateLimiter}
 * route filters: an exact token bucket per (route, key), the key being what the filter's
 * {@code KeyResolver} resolved. Each route is configured by its filter's arguments under
 * {@value #CONFIGURATION_PROPERTY_NAME} (bound into a {@link Config}):
 *
 * <pre>{@code
 * filters:
 *   - name: RequestRateLimiter
 *     args:
 *       rate-limiter: "#{@sluiceRateLimiter}"
 *       key-resolver: "#{@apiKeyResolver}"
 *       sluice-rate-limiter.permits: 10    # 10 permits per second,
 *       sluice-rate-limiter.per: 1s
 *       sluice-rate-limiter.burst: 20      # bursts up to 20
 * }</pre>
 *
 * <p>or {@code sluice-rate-limiter.plan: gold} for a named plan given at build (one or more
 * limits, all-or-nothing), and {@code sluice-rate-limiter.cost} for the permits a request takes
 * (default 1). A route with no arguments of its own takes those of the gateway's default
 * filters.
 *
 * <p>Each route has its own core {@link RateLimiter}; decisions go through its non-blocking
 * {@link RateLimiter#decideAsync}, so a Redis store never blocks the event loop (and its deny
 * cache answers a request that cannot succeed yet without a round trip). When a route's
 * arguments change (routes refreshed), its buckets are kept and converted by the carry-over
 * rule. The {@code Response} carries Sluice's headers ({@link DecisionHeaders}, the names the
 * servlet adapter writes; the IETF policy item is named after the route), which Gateway adds to
 * the response, allowed or refused; a refused request gets the filter's {@code status-code}
 * (429 by default).
 *
 * <p>When the store cannot decide, the limiter's {@link FailureMode} answers: {@code OPEN}
 * allows with no headers; {@code CLOSED} refuses with no headers, which Gateway answers with
 * the same status code as a quota refusal (Gateway's {@code RateLimiter.Response} carries no
 * other status); {@code LOCAL} (the default) decides on this node's in-memory buckets, with
 * headers.
 *
 * <p>Thread-safe. {@link #close()} closes every route's limiter (the Spring bean is closed with
 * the context).
 */
public final class SluiceRateLimiter extends AbstractRateLimiter<SluiceRateLimiter.Config>
    implements AutoCloseable {

  /** The prefix of this limiter's route filter arguments. */
  public static final String CONFIGURATION_PROPERTY_NAME = "sluice-rate-limiter";

  private final String name;
  private final RateStoreFactory store;
  private final Ticker ticker;
  private final FailureMode failureMode;
  private final Set<HeaderGroup> headers;
  private final Map<String, Policy> plans;
  private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** One route's configuration as resolved, its limiter and its headers. */
  private static final class Route {
    final Config config;
    final long cost;
    final RateLimiter<String> limiter;
    final DecisionHeaders headers;
    /** "<length of the route id>:<route id>:": keys of different routes never meet in a store. */
    final String keyPrefix;

    Route(Config config, long cost, RateLimiter<String> limiter, DecisionHeaders headers,
        String keyPrefix) {
      this.config = config;
      this.cost = cost;
      this.limiter = limiter;
      this.headers = headers;
      this.keyPrefix = keyPrefix;
    }
  }

  private SluiceRateLimiter(Builder b) {
    super(Config.class, CONFIGURATION_PROPERTY_NAME, b.configurationService);
    this.name = b.name;
    this.store = b.store;
    this.ticker = b.ticker;
    this.failureMode = b.failureMode;
    this.headers = EnumSet.copyOf(b.headers);
    this.plans = Map.copyOf(b.plans);
  }

  /**
   * A builder. Without a {@link ConfigurationService} (null), route filter arguments are not
   * bound: give each route's {@link Config} through {@link #getConfig()}.
   *
   * @param configurationService Gateway's, which binds route filter arguments; may be null
   * @return a builder
   */
  public static Builder builder(ConfigurationService configurationService) {
    return new Builder(configurationService);
  }

  /**
   * Decides one request of route {@code routeId} for key {@code id}, without blocking.
   *
   * @param routeId the route
   * @param id the key the route's {@code KeyResolver} resolved
   * @return whether it is allowed, with the rate-limit headers; an error if the route has no
   *     valid configuration (an {@link IllegalArgumentException} naming the route, the value and
   *     the bound)
   */
  @Override
  public Mono<Response> isAllowed(String routeId, String id) {
    Objects.requireNonNull(routeId, "routeId");
    Objects.requireNonNull(id, "id");
    Route route;
    try {
      route = route(routeId);
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    String key = route.keyPrefix + id;
    return Mono.fromCompletionStage(() -> route.limiter.decideAsync(key, route.cost))
        .map(d -> response(route, d));
  }

  private static Response response(Route route, Decision d) {
    Map<String, String> h = new LinkedHashMap<>(16);
    route.headers.forEach(d, h::put);
    return new Response(d.allowed(), h);
  }

  /**
   * Binds the route's arguments (as Gateway does), checks them and makes (or converts) the
   * route's limiter at once: a bad configuration is reported when the routes load rather than at
   * the first request, and a store that connects when made (Redis) does so then, never on the
   * event loop.
   *
   * @param event the route filter's arguments
   * @throws IllegalArgumentException if this limiter's arguments are invalid
   */
  @Override
  public void onApplicationEvent(FilterArgsEvent event) {
    super.onApplicationEvent(event);
    String routeId = event.getRouteId();
    Config c = getConfig().get(routeId);
    if (c != null && !closed) {
      routes.compute(routeId, (id, old) ->
          old != null && old.config == c ? old : configure(id, c, old));
    }
  }

  /** The route's state for its current configuration, made or converted if that changed. */
  private Route route(String routeId) {
    Config c = getConfig().get(routeId);
    if (c == null) {
      c = getConfig().get(RouteDefinitionRouteLocator.DEFAULT_FILTERS);
    }
    if (c == null) {
      throw new IllegalArgumentException("route " + routeId + " has no "
          + CONFIGURATION_PROPERTY_NAME + " configuration: set " + CONFIGURATION_PROPERTY_NAME
          + ".permits and .per (or .plan) in its RequestRateLimiter arguments");
    }
    Route r = routes.get(routeId);
    if (r != null && r.config == c) {
      return r;
    }
    Config config = c;
    return routes.compute(routeId, (id, old) ->
        old != null && old.config == config ? old : configure(id, config, old));
  }

  private Route configure(String routeId, Config c, Route old) {
    if (closed) {
      throw new IllegalStateException("sluiceRateLimiter " + name + " is closed");
    }
    Policy policy = c.policy(routeId, plans);
    long cost = c.checkedCost(routeId);
    RateLimiter<String> limiter;
    if (old != null) {
      limiter = old.limiter;
      limiter.updatePolicy(policy); // carry-over: the route's buckets keep their permits
    } else {
      limiter = RateLimiter.builder(policy).name(name).store(store).ticker(ticker)
          .failureMode(failureMode).build();
    }
    return new Route(c, cost, limiter, DecisionHeaders.of(itemName(routeId), policy, headers),
        routeId.length() + ":" + routeId + ":");
  }

  /** The route id as an IETF item name: characters outside {@code [A-Za-z0-9._-]} become '_'. */
  static String itemName(String routeId) {
    StringBuilder sb = new StringBuilder(Math.min(64, Math.max(1, routeId.length())));
    for (int i = 0; i < routeId.length() && sb.length() < 64; i++) {
      char ch = routeId.charAt(i);
      boolean plain = ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9'
          || ch == '.' || ch == '_' || ch == '-';
      sb.append(plain ? ch : '_');
    }
    return sb.length() == 0 ? "_" : sb.toString();
  }

  /**
   * The name of every route's limiter (for metrics and for the keys of a shared store).
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * What every route's limiter answers when its store cannot.
   *
   * @return the failure mode
   */
  public FailureMode failureMode() {
    return failureMode;
  }

  /**
   * The named plans routes may refer to with {@code sluice-rate-limiter.plan}.
   *
   * @return the plans, by name
   */
  public Map<String, Policy> plans() {
    return plans;
  }

  /**
   * Closes every route's limiter (and so the stores they created). Afterwards each route's
   * limiter answers by the failure mode. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Route r : routes.values()) {
      r.limiter.close();
    }
  }

  @Override
  public String toString() {
    return "SluiceRateLimiter[" + name + ", " + failureMode + ", routes " + routes.keySet() + "]";
  }

  /**
   * One route's configuration, bound from its filter arguments under
   * {@value SluiceRateLimiter#CONFIGURATION_PROPERTY_NAME}: either a limit ({@code permits} per
   * {@code per}, bursts up to {@code burst}) or a {@code plan}, and a {@code cost}. Setters
   * return this config, for routes built in Java ({@code limiter.getConfig().put(routeId, new
   * Config().setPermits(10).setPer(Duration.ofSeconds(1)))}).
   */
  public static final class Config {

    private long permits;
    private Duration per;
    private long burst;
    private String plan;
    private long cost = 1;

    /** An empty configuration: set a limit or a plan. */
    public Config() {}

    /**
     * Permits refilled every {@link #getPer()}; 0 when unset.
     *
     * @return the permits
     */
    public long getPermits() {
      return permits;
    }

    /**
     * Sets the permits refilled every {@code per}.
     *
     * @param permits at least 1
     * @return this config
     */
    public Config setPermits(long permits) {
      this.permits = permits;
      return this;
    }

    /**
     * The period over which {@link #getPermits()} are refilled; null when unset.
     *
     * @return the period
     */
    public Duration getPer() {
      return per;
    }

    /**
     * Sets the period over which the permits are refilled ({@code 1s}, {@code 1m}, ...).
     *
     * @param per positive
     * @return this config
     */
    public Config setPer(Duration per) {
      this.per = per;
      return this;
    }

    /**
     * The bucket's capacity, the largest burst; 0 (unset) means {@link #getPermits()}.
     *
     * @return the burst
     */
    public long getBurst() {
      return burst;
    }

    /**
     * Sets the bucket's capacity.
     *
     * @param burst at least 1; 0 for the permits
     * @return this config
     */
    public Config setBurst(long burst) {
      this.burst = burst;
      return this;
    }

    /**
     * The named plan, instead of a limit; null when unset.
     *
     * @return the plan's name
     */
    public String getPlan() {
      return plan;
    }

    /**
     * Sets the named plan, instead of a limit.
     *
     * @param plan one of the limiter's plans
     * @return this config
     */
    public Config setPlan(String plan) {
      this.plan = plan;
      return this;
    }

    /**
     * The permits one request takes (default 1).
     *
     * @return the cost
     */
    public long getCost() {
      return cost;
    }

    /**
     * Sets the permits one request takes; a cost above the capacity is always refused.
     *
     * @param cost at least 1
     * @return this config
     */
    public Config setCost(long cost) {
      this.cost = cost;
      return this;
    }

    /** The policy this configures; refused with a message naming the route and the bound. */
    Policy policy(String routeId, Map<String, Policy> plans) {
      String where = "route " + routeId + ": " + CONFIGURATION_PROPERTY_NAME + ".";
      if (plan != null && !plan.isBlank()) {
        if (permits != 0 || per != null || burst != 0) {
          throw new IllegalArgumentException(where + "plan (" + plan
              + ") and a limit (permits, per, burst) exclude each other: set one");
        }
        Policy p = plans.get(plan);
        if (p == null) {
          throw new IllegalArgumentException(where + "plan (" + plan + ") is not a plan: "
              + (plans.isEmpty() ? "none are defined" : "one of " + new ArrayList<>(
                  new java.util.TreeSet<>(plans.keySet()))));
        }
        return p;
      }
      if (permits < 1) {
        throw new IllegalArgumentException(where + "permits (" + permits
            + ") must be at least 1 (or set a plan)");
      }
      if (per == null || per.isNegative() || per.isZero()) {
        throw new IllegalArgumentException(where + "per (" + per + ") must be positive");
      }
      if (burst < 0) {
        throw new IllegalArgumentException(where + "burst (" + burst
            + ") must be at least 1 (0: the permits)");
      }
      try {
        Limit l = Limit.of(permits, per);
        return Policy.of(burst == 0 ? l : l.withCapacity(burst));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
    }

    /** The cost, checked. */
    long checkedCost(String routeId) {
      if (cost < 1) {
        throw new IllegalArgumentException("route " + routeId + ": " + CONFIGURATION_PROPERTY_NAME
            + ".cost (" + cost + ") must be at least 1");
      }
      return cost;
    }

    @Override
    public String toString() {
      return "Config[" + (plan != null ? "plan " + plan
          : permits + " per " + per + ", burst " + burst) + ", cost " + cost + "]";
    }
  }

  /** Builds a {@link SluiceRateLimiter}. Not thread-safe. */
  public static final class Builder {

    private final ConfigurationService configurationService;
    private String name = "gateway";
    private RateStoreFactory store = InMemoryStore.factory();
    private Ticker ticker = Ticker.system();
    private FailureMode failureMode = FailureMode.LOCAL;
    private Set<HeaderGroup> headers = EnumSet.allOf(HeaderGroup.class);
    private final Map<String, Policy> plans = new LinkedHashMap<>();

    private Builder(ConfigurationService configurationService) {
      this.configurationService = configurationService;
    }

    /**
     * The name of every route's limiter (default "gateway"): for metrics, and the part of a
     * shared store's keys that keeps this gateway's buckets apart from other limiters'.
     *
     * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}
     * @return this builder
     * @throws IllegalArgumentException if the name is not
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(
            "name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
      }
      this.name = name;
      return this;
    }

    /**
     * Where buckets live (default in memory, {@link InMemoryStore#factory()}); a
     * {@code RedisStore.Factory} shares them across gateway nodes.
     *
     * @param factory the store factory; the caller keeps it, and closes it after this limiter
     * @return this builder
     */
    public Builder store(RateStoreFactory factory) {
      this.store = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * The time source of the in-memory store (default {@link Ticker#system()}); a
     * {@code ManualTicker} in tests. A Redis store reads Redis's clock.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * What to answer when the store cannot decide (default {@link FailureMode#LOCAL}).
     *
     * @param mode the failure mode
     * @return this builder
     */
    public Builder failureMode(FailureMode mode) {
      this.failureMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The header groups in every response (default all three).
     *
     * @param groups the groups; none for no rate-limit headers
     * @return this builder
     */
    public Builder headers(Set<HeaderGroup> groups) {
      Objects.requireNonNull(groups, "groups");
      this.headers = groups.isEmpty() ? EnumSet.noneOf(HeaderGroup.class) : EnumSet.copyOf(groups);
      return this;
    }

    /**
     * A named plan that routes may refer to ({@code sluice-rate-limiter.plan: gold}).
     *
     * @param plan the plan's name, not blank
     * @param policy its limits
     * @return this builder
     * @throws IllegalArgumentException if the name is blank
     */
    public Builder plan(String plan, Policy policy) {
      Objects.requireNonNull(plan, "plan");
      Objects.requireNonNull(policy, "policy");
      if (plan.isBlank()) {
        throw new IllegalArgumentException("plan name (\"" + plan + "\") must not be blank");
      }
      plans.put(plan, policy);
      return this;
    }

    /**
     * Builds the limiter; each route's limiter and store are made at its first request.
     *
     * @return a new limiter
     */
    public SluiceRateLimiter build() {
      return new SluiceRateLimiter(this);
    }
  }
}
