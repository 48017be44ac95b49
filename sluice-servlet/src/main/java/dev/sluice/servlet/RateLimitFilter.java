package dev.sluice.servlet;

import dev.sluice.Decision;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStoreFactory;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Jakarta Servlet filter that rate-limits requests: for each request, the {@link Rule}s that
 * match it draw permits from the bucket of the request's key; the response carries the
 * rate-limit headers ({@link HeaderGroup}); a refused request gets the {@link RejectionHandler}'s
 * response (by default 429 {@code application/problem+json}) and never reaches the servlet.
 *
 * <pre>{@code
 * RateLimitFilter filter = RateLimitFilter.builder()
 *     .key(KeyResolver.clientIp(TrustedProxies.of("10.0.0.0/8")))
 *     .rule(Rule.builder("api", Limit.perSecond(10).withCapacity(20)).paths("/api/**").build())
 *     .exempt("/health")
 *     .build();
 * }</pre>
 *
 * <h2>Several rules: all-or-nothing</h2>
 * A request matched by several rules is admitted only if every rule has its permits, and a
 * request refused by one rule takes nothing from the others. The filter makes this so without a
 * "refund" operation: with two or more rules, a striped lock per (rule, key) serializes this
 * filter's decisions on a key; under it, every rule is first asked how many permits it holds
 * ({@link RateLimiter#availablePermits}); if one is short, only the short rules are asked to
 * decide (a refusal takes nothing), and the request is refused; otherwise every rule decides and
 * admits. Permits only grow between the check and the take, so the take cannot fail, unless code
 * outside this filter draws on the same limiters (a limiter passed in and shared, or a store shared
 * with other processes). Then a rule may refuse after an earlier one has admitted, and that earlier
 * rule's permits are lost for this request: the filter can under-admit then, never over-admit. A
 * filter with a single rule takes no lock.
 *
 * <h2>What is limited</h2>
 * Only the first pass of a request ({@link DispatcherType#REQUEST}) is counted; forwards,
 * includes, error and async dispatches pass through. Paths are matched against the servlet path
 * plus path info, decoded and normalized by the container. Exempt paths pass untouched, without
 * headers. A rule whose key is missing refuses the request ({@link MissingKey#DENY}, the default)
 * or does not apply to it ({@link MissingKey#ALLOW}).
 *
 * <h2>When the store cannot decide</h2>
 * A limiter whose store is unavailable answers with its {@link dev.sluice.FailureMode}, and the
 * filter tells those answers apart by {@link dev.sluice.Decision#source()}: a fail-open admission
 * passes with no rate-limit headers (there is no count behind them); a fail-closed refusal is
 * answered 503 ({@link Rejection.Reason#UNAVAILABLE}), not 429, with no rate-limit headers and no
 * {@code Retry-After}, since the client did nothing wrong and nobody knows when the store is back;
 * a local-fallback decision is a real decision by this node's buckets and is answered like any
 * other. When several rules apply, a real quota refusal by any of them wins over an unavailable
 * store (429).
 *
 * <h2>Lifecycle</h2>
 * {@link #destroy()} and {@link #close()} close the limiters the filter created for rules built
 * from a limit or policy, never limiters passed in. Thread-safe.
 */
public final class RateLimitFilter implements Filter, AutoCloseable {

  private static final String APPLIED = RateLimitFilter.class.getName() + ".applied";
  private static final int STRIPES = 256;

  private final Rule[] rules;
  private final RateLimiter<String>[] limiters;
  private final boolean[] owned;
  private final List<PathPattern> exempt;
  private final KeyResolver defaultKey;
  private final Set<HeaderGroup> headers;
  private final MissingKey missingKey;
  private final RejectionHandler rejectionHandler;
  private final ReentrantLock[] stripes;
  private final AtomicBoolean closed = new AtomicBoolean();

  @SuppressWarnings("unchecked")
  private RateLimitFilter(Builder b) {
    int n = b.rules.size();
    this.rules = b.rules.toArray(new Rule[0]);
    this.limiters = (RateLimiter<String>[]) new RateLimiter<?>[n];
    this.owned = new boolean[n];
    for (int i = 0; i < n; i++) {
      Rule r = rules[i];
      if (r.limiter() != null) {
        limiters[i] = r.limiter();
      } else {
        limiters[i] = RateLimiter.builder(r.policy()).name(r.name()).ticker(b.ticker)
            .store(b.store).build();
        owned[i] = true;
      }
    }
    this.exempt = List.copyOf(b.exempt);
    this.defaultKey = b.key;
    this.headers = Collections.unmodifiableSet(EnumSet.copyOf(b.headers));
    this.missingKey = b.missingKey;
    this.rejectionHandler = b.rejectionHandler;
    if (n > 1) {
      stripes = new ReentrantLock[STRIPES];
      for (int i = 0; i < STRIPES; i++) {
        stripes[i] = new ReentrantLock();
      }
    } else {
      stripes = null;
    }
  }

  /**
   * A builder with the defaults: key {@link KeyResolver#clientIp()}, every header group,
   * {@link MissingKey#DENY}, {@link RejectionHandler#problemJson()}, the in-memory store and the
   * system ticker. At least one rule (or {@link Builder#limit}) is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)
        || req.getDispatcherType() != DispatcherType.REQUEST || req.getAttribute(APPLIED) != null) {
      chain.doFilter(req, res);
      return;
    }
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    request.setAttribute(APPLIED, Boolean.TRUE);
    if (apply(request, response)) {
      chain.doFilter(req, res);
    }
  }

  /** Decides, writes headers, and on refusal the rejection; returns whether to continue. */
  private boolean apply(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    String path = path(request);
    for (PathPattern p : exempt) {
      if (p.matches(path)) {
        return true;
      }
    }
    String method = request.getMethod();
    List<Outcome> outcomes = null;
    Map<KeyResolver, Optional<String>> resolved = null;
    for (int i = 0; i < rules.length; i++) {
      Rule rule = rules[i];
      if (!rule.matches(path, method)) {
        continue;
      }
      long cost = rule.permits(request);
      if (cost == 0) {
        continue;
      }
      KeyResolver resolver = rule.key() != null ? rule.key() : defaultKey;
      Optional<String> material;
      if (rules.length == 1) {
        material = resolver.resolve(request);
      } else {
        if (resolved == null) {
          resolved = new IdentityHashMap<>(4);
        }
        material = resolved.get(resolver);
        if (material == null) {
          material = resolver.resolve(request);
          resolved.put(resolver, material);
        }
      }
      if (material.isEmpty()) {
        if (missingKey == MissingKey.DENY) {
          rejectionHandler.reject(request, response,
              new Rejection(Rejection.Reason.MISSING_KEY, List.of(rule.name()), 0, null));
          return false;
        }
        continue;
      }
      if (outcomes == null) {
        outcomes = new ArrayList<>(rules.length);
      }
      outcomes.add(new Outcome(rule, limiters[i], i, Keys.hash(material.get()), cost));
    }
    if (outcomes == null) {
      return true;
    }
    boolean admitted = decide(outcomes);
    Outcome binding = binding(outcomes, admitted);
    if (binding != null) {
      Headers.write(response, headers, outcomes, binding.decision);
    }
    if (admitted) {
      return true;
    }
    List<String> refusing = new ArrayList<>(1);
    if (binding == null) {
      // Every refusal came from a failure mode: the store is unavailable, not the client over
      // its quota. 503, and no rate-limit headers: there is no count behind them.
      Decision failed = null;
      for (Outcome o : outcomes) {
        if (o.decision != null && !o.decision.allowed()) {
          refusing.add(o.rule.name());
          failed = o.decision;
        }
      }
      rejectionHandler.reject(request, response,
          new Rejection(Rejection.Reason.UNAVAILABLE, refusing, 0, failed));
      return false;
    }
    for (Outcome o : outcomes) {
      if (o.decision != null && !o.decision.allowed() && counted(o.decision)) {
        refusing.add(o.rule.name());
      }
    }
    Rejection.Reason reason = binding.decision.canEverSucceed()
        ? Rejection.Reason.QUOTA_EXCEEDED : Rejection.Reason.EXCEEDS_CAPACITY;
    rejectionHandler.reject(request, response,
        new Rejection(reason, refusing, binding.cost, binding.decision));
    return false;
  }

  /** Sets a decision on every outcome that needs one; returns whether all admitted. */
  private boolean decide(List<Outcome> outcomes) {
    if (stripes == null) {
      Outcome o = outcomes.get(0);
      o.decision = o.limiter.decide(o.key, o.cost);
      return o.decision.allowed();
    }
    int[] locks = new int[outcomes.size()];
    for (int i = 0; i < locks.length; i++) {
      Outcome o = outcomes.get(i);
      int h = o.key.hashCode() * 31 + o.index;
      locks[i] = (h ^ (h >>> 16)) & (STRIPES - 1);
    }
    Arrays.sort(locks);
    int held = 0;
    try {
      for (int i = 0; i < locks.length; i++) {
        if (i == 0 || locks[i] != locks[i - 1]) {
          stripes[locks[i]].lock();
          held = i + 1;
        }
      }
      return decideLocked(outcomes);
    } finally {
      for (int i = held - 1; i >= 0; i--) {
        if (i == 0 || locks[i] != locks[i - 1]) {
          stripes[locks[i]].unlock();
        }
      }
    }
  }

  private static boolean decideLocked(List<Outcome> outcomes) {
    if (outcomes.size() == 1) {
      Outcome o = outcomes.get(0);
      o.decision = o.limiter.decide(o.key, o.cost);
      return o.decision.allowed();
    }
    boolean anyShort = false;
    for (Outcome o : outcomes) {
      o.available = o.limiter.availablePermits(o.key);
      anyShort |= o.available < o.cost;
    }
    if (anyShort) {
      // Ask only the short rules: a refusal takes nothing. If all of them were refilled in the
      // meantime they admitted, and the others (which had enough) are taken from below.
      boolean allShortAdmitted = true;
      for (Outcome o : outcomes) {
        if (o.available < o.cost) {
          o.decision = o.limiter.decide(o.key, o.cost);
          allShortAdmitted &= o.decision.allowed();
        }
      }
      if (!allShortAdmitted) {
        return false;
      }
    }
    for (Outcome o : outcomes) {
      if (o.decision == null) {
        o.decision = o.limiter.decide(o.key, o.cost);
        if (!o.decision.allowed()) {
          return false; // only if something outside this filter drew on the limiter
        }
      }
    }
    return true;
  }

  /**
   * Whether a decision has a bucket behind it (the store's, or the local fallback's); a
   * fail-open admission or a fail-closed refusal has none, so no header may describe it.
   */
  static boolean counted(Decision d) {
    return d.source() == Decision.Source.STORE || d.source() == Decision.Source.LOCAL_FALLBACK;
  }

  /**
   * The decision the headers describe, or null if no decision has a count behind it: when admitted, the one with the fewest permits left (ties:
   * the longest reset); when refused, the refusal with the longest wait (never = longest).
   */
  private static Outcome binding(List<Outcome> outcomes, boolean admitted) {
    Outcome best = null;
    for (Outcome o : outcomes) {
      Decision d = o.decision;
      if (d == null || d.allowed() != admitted || !counted(d)) {
        continue;
      }
      if (best == null) {
        best = o;
        continue;
      }
      Decision b = best.decision;
      if (admitted) {
        if (d.remaining() < b.remaining()
            || (d.remaining() == b.remaining() && d.resetAfterNanos() > b.resetAfterNanos())) {
          best = o;
        }
      } else if (b.canEverSucceed()
          && (!d.canEverSucceed() || d.retryAfterNanos() > b.retryAfterNanos())) {
        best = o;
      }
    }
    return best;
  }

  private static String path(HttpServletRequest request) {
    String servletPath = request.getServletPath();
    String pathInfo = request.getPathInfo();
    String p = servletPath == null ? "" : servletPath;
    if (pathInfo != null) {
      p = p + pathInfo;
    }
    return p.isEmpty() ? "/" : p;
  }

  /**
   * Whole permits {@code rule} holds for {@code request}'s key, taking none: for status pages
   * and health endpoints that show a caller its allowance.
   *
   * @param request the request whose key is resolved
   * @param rule the rule's name
   * @return the permits, or empty if the request has no key for that rule
   * @throws IllegalArgumentException if there is no such rule
   */
  public OptionalLong availablePermits(HttpServletRequest request, String rule) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(rule, "rule");
    for (int i = 0; i < rules.length; i++) {
      if (rules[i].name().equals(rule)) {
        KeyResolver resolver = rules[i].key() != null ? rules[i].key() : defaultKey;
        Optional<String> material = resolver.resolve(request);
        return material.isEmpty() ? OptionalLong.empty()
            : OptionalLong.of(limiters[i].availablePermits(Keys.hash(material.get())));
      }
    }
    throw new IllegalArgumentException("no rule named \"" + rule + "\"; rules: " + rules());
  }

  /**
   * The rules, in the order they are checked.
   *
   * @return the rules
   */
  public List<Rule> rules() {
    return List.of(rules);
  }

  /**
   * The header groups written.
   *
   * @return the groups
   */
  public Set<HeaderGroup> headerGroups() {
    return headers;
  }

  /** Closes the limiters this filter created; idempotent. Same as {@link #close()}. */
  @Override
  public void destroy() {
    close();
  }

  /** Closes the limiters this filter created (not those passed in); idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      for (int i = 0; i < limiters.length; i++) {
        if (owned[i]) {
          limiters[i].close();
        }
      }
    }
  }

  @Override
  public String toString() {
    return "RateLimitFilter" + rules();
  }

  /** Builds a {@link RateLimitFilter}. Not thread-safe. */
  public static final class Builder {

    private final List<Rule> rules = new ArrayList<>();
    private final List<PathPattern> exempt = new ArrayList<>();
    private KeyResolver key = KeyResolver.clientIp();
    private Set<HeaderGroup> headers = EnumSet.allOf(HeaderGroup.class);
    private MissingKey missingKey = MissingKey.DENY;
    private RejectionHandler rejectionHandler = RejectionHandler.problemJson();
    private Ticker ticker = Ticker.system();
    private RateStoreFactory store = InMemoryStore.factory();

    private Builder() {}

    /**
     * Adds a rule named {@code default} applying {@code limit} to every path.
     *
     * @param limit the limit
     * @return this builder
     */
    public Builder limit(Limit limit) {
      return rule(Rule.builder("default", limit).build());
    }

    /**
     * Adds a rule; rules are checked in the order added.
     *
     * @param rule the rule
     * @return this builder
     */
    public Builder rule(Rule rule) {
      rules.add(Objects.requireNonNull(rule, "rule"));
      return this;
    }

    /**
     * The key resolver for rules that have none of their own (default
     * {@link KeyResolver#clientIp()}: the socket peer, no proxies trusted).
     *
     * @param resolver the resolver
     * @return this builder
     */
    public Builder key(KeyResolver resolver) {
      this.key = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Paths that are never limited and get no headers (health checks, static pages); adds to
     * earlier calls.
     *
     * @param patterns path patterns, as for {@link Rule.Builder#paths}
     * @return this builder
     */
    public Builder exempt(String... patterns) {
      Objects.requireNonNull(patterns, "patterns");
      for (String p : patterns) {
        exempt.add(PathPattern.compile(p));
      }
      return this;
    }

    /**
     * The header groups to write (default: all); replaces earlier calls. None at all is allowed.
     *
     * @param groups the groups
     * @return this builder
     */
    public Builder headers(HeaderGroup... groups) {
      Objects.requireNonNull(groups, "groups");
      Set<HeaderGroup> s = EnumSet.noneOf(HeaderGroup.class);
      s.addAll(Arrays.asList(groups));
      this.headers = s;
      return this;
    }

    /**
     * What to do when a rule's resolver finds no key (default {@link MissingKey#DENY}).
     *
     * @param action the action
     * @return this builder
     */
    public Builder onMissingKey(MissingKey action) {
      this.missingKey = Objects.requireNonNull(action, "action");
      return this;
    }

    /**
     * Writes refusals (default {@link RejectionHandler#problemJson()}).
     *
     * @param handler the handler
     * @return this builder
     */
    public Builder rejectionHandler(RejectionHandler handler) {
      this.rejectionHandler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * The ticker for limiters the filter creates (default {@link Ticker#system()}); tests pass a
     * {@link dev.sluice.ManualTicker}.
     *
     * @param t the ticker
     * @return this builder
     */
    public Builder ticker(Ticker t) {
      this.ticker = Objects.requireNonNull(t, "ticker");
      return this;
    }

    /**
     * Where limiters the filter creates keep their buckets (default in memory).
     *
     * @param factory the store factory
     * @return this builder
     */
    public Builder store(RateStoreFactory factory) {
      this.store = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Builds the filter, creating a limiter for every rule built from a limit or policy.
     *
     * @return the filter
     * @throws IllegalStateException if there is no rule, two rules share a name, or two rules
     *     share one limiter instance
     */
    public RateLimitFilter build() {
      if (rules.isEmpty()) {
        throw new IllegalStateException("a RateLimitFilter needs at least one rule (or limit)");
      }
      Set<String> names = new HashSet<>();
      Set<RateLimiter<String>> shared = Collections.newSetFromMap(new IdentityHashMap<>());
      for (Rule r : rules) {
        if (!names.add(r.name())) {
          throw new IllegalStateException("two rules are named \"" + r.name() + "\"");
        }
        if (r.limiter() != null && !shared.add(r.limiter())) {
          throw new IllegalStateException(
              "rules must not share a limiter instance (\"" + r.name() + "\")");
        }
      }
      return new RateLimitFilter(this);
    }
  }
}
