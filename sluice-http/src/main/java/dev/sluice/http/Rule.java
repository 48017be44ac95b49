package dev.sluice.http;

import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * Which requests a limit applies to, what they cost, and (optionally) whose bucket they draw on.
 *
 * <pre>{@code
 * Rule search = Rule.builder("search", Limit.perMinute(30))
 *     .paths("/api/search/**").methods("GET")
 *     .permits(2)
 *     .build();
 * }</pre>
 *
 * <p>A rule built from a {@link Limit} or {@link Policy} gets its own {@link RateLimiter}, created
 * and closed by the {@link HttpLimiter}. A rule built from a {@link RateLimiter} uses that limiter (shared
 * with other code, or backed by another store) and never closes it. Each rule's buckets are its
 * own: two rules never share a bucket. Immutable.
 */
public final class Rule {

  private final String name;
  private final Policy policy;
  private final RateLimiter<String> limiter;
  private final List<PathPattern> paths;
  private final Set<String> methods;
  private final ToLongFunction<RequestView> permits;
  private final KeyResolver key;
  private final String ietfPolicy;
  private final String[] capacityText;
  private final String[] stateItemPrefix;

  private Rule(Builder b) {
    this.name = b.name;
    this.policy = b.policy;
    this.limiter = b.limiter;
    this.paths = List.copyOf(b.paths.isEmpty() ? List.of(PathPattern.compile("/**")) : b.paths);
    Set<String> m = new TreeSet<>(b.methods);
    if (m.contains("GET")) {
      m.add("HEAD"); // a HEAD is a GET without the body: a GET rule covers it
    }
    this.methods = Set.copyOf(m);
    this.permits = b.permits;
    this.key = b.key;
    this.ietfPolicy = Headers.policyItems(name, policy);
    this.capacityText = policy.limits().stream().map(l -> Long.toString(l.capacity()))
        .toArray(String[]::new);
    this.stateItemPrefix = new String[policy.limits().size()];
    for (int i = 0; i < stateItemPrefix.length; i++) {
      stateItemPrefix[i] = Headers.stateItemPrefix(name, policy, i);
    }
  }

  /**
   * A rule with its own limiter enforcing one limit per key.
   *
   * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}; shown in headers and problem
   *     bodies
   * @param limit the limit
   * @return a builder
   */
  public static Builder builder(String name, Limit limit) {
    return builder(name, Policy.of(Objects.requireNonNull(limit, "limit")));
  }

  /**
   * A rule with its own limiter enforcing a policy per key.
   *
   * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}
   * @param policy the limits, checked all-or-nothing
   * @return a builder
   */
  public static Builder builder(String name, Policy policy) {
    return new Builder(checkName(name), Objects.requireNonNull(policy, "policy"), null);
  }

  /**
   * A rule drawing on an existing limiter, named after it; the HTTP limiter never closes it.
   *
   * @param limiter the limiter, keyed by the hashed key
   * @return a builder
   */
  public static Builder builder(RateLimiter<String> limiter) {
    Objects.requireNonNull(limiter, "limiter");
    return new Builder(checkName(limiter.name()), limiter.policy(), limiter);
  }

  private static String checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "rule name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
    }
    return name;
  }

  /**
   * The rule's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The limits enforced per key.
   *
   * @return the policy
   */
  public Policy policy() {
    return policy;
  }

  RateLimiter<String> limiter() {
    return limiter;
  }

  KeyResolver key() {
    return key;
  }

  /** This rule's items of the {@code RateLimit-Policy} field; constant, so computed once. */
  String ietfPolicy() {
    return ietfPolicy;
  }

  /** The capacity of limit {@code i} as text, for {@code X-RateLimit-Limit}; built once. */
  String capacityText(int i) {
    return capacityText[i];
  }

  /** {@code "<name>";r=} for limit {@code i}, for the {@code RateLimit} field; built once. */
  String stateItemPrefix(int i) {
    return stateItemPrefix[i];
  }

  long permits(RequestView request) {
    long n = permits.applyAsLong(request);
    if (n < 0) {
      throw new IllegalStateException(
          "rule \"" + name + "\": permits per request (" + n + ") must be at least 0");
    }
    return n;
  }

  boolean matches(String path, String method) {
    if (!methods.isEmpty() && !methods.contains(method)) {
      return false;
    }
    for (PathPattern p : paths) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "Rule[" + name + ", " + paths + (methods.isEmpty() ? "" : ", " + new TreeSet<>(methods))
        + ", " + policy + "]";
  }

  /** Builds a {@link Rule}. Not thread-safe. */
  public static final class Builder {

    private final String name;
    private final Policy policy;
    private final RateLimiter<String> limiter;
    private final List<PathPattern> paths = new ArrayList<>();
    private final Set<String> methods = new TreeSet<>();
    private ToLongFunction<RequestView> permits = r -> 1L;
    private KeyResolver key;

    private Builder(String name, Policy policy, RateLimiter<String> limiter) {
      this.name = name;
      this.policy = policy;
      this.limiter = limiter;
    }

    /**
     * The paths the rule applies to (default {@code /**}, every path); adds to earlier calls.
     *
     * @param patterns patterns such as {@code /hello}, {@code /api/**}, {@code /users/*}
     * @return this builder
     * @throws IllegalArgumentException if a pattern does not start with {@code /}
     */
    public Builder paths(String... patterns) {
      Objects.requireNonNull(patterns, "patterns");
      for (String p : patterns) {
        paths.add(PathPattern.compile(p));
      }
      return this;
    }

    /**
     * The methods the rule applies to (default: all); adds to earlier calls. {@code GET}
     * covers {@code HEAD} too, which is a GET without the body.
     *
     * @param names method names, such as {@code GET}; compared case-sensitively after upper-casing
     * @return this builder
     */
    public Builder methods(String... names) {
      Objects.requireNonNull(names, "names");
      for (String m : names) {
        Objects.requireNonNull(m, "method");
        if (!m.matches("[A-Za-z-]{1,32}")) {
          throw new IllegalArgumentException("method (\"" + m + "\") must be 1 to 32 letters");
        }
        methods.add(m.toUpperCase(Locale.ROOT));
      }
      return this;
    }

    /**
     * Permits each request costs (default 1). A request costing more than the capacity is
     * refused definitely, without {@code Retry-After}.
     *
     * @param n at least 1
     * @return this builder
     */
    public Builder permits(long n) {
      if (n < 1) {
        throw new IllegalArgumentException("permits (" + n + ") must be at least 1");
      }
      this.permits = r -> n;
      return this;
    }

    /**
     * Permits a request costs, computed per request (for example from its size). A result of 0
     * exempts the request from this rule; a negative result fails the request.
     *
     * @param cost the cost function, thread-safe
     * @return this builder
     */
    public Builder permits(ToLongFunction<RequestView> cost) {
      this.permits = Objects.requireNonNull(cost, "cost");
      return this;
    }

    /**
     * Whose bucket this rule's requests draw on (default: the HTTP limiter's resolver).
     *
     * @param resolver the key resolver for this rule
     * @return this builder
     */
    public Builder key(KeyResolver resolver) {
      this.key = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Builds the rule.
     *
     * @return the rule
     */
    public Rule build() {
      return new Rule(this);
    }
  }
}
