package dev.sluice.http;

import dev.sluice.Limit;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntPredicate;
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
 * <p>A rule built from a {@link Limit}, a {@link Policy} or {@link Plans} gets its own
 * {@link RateLimiter}, created and closed by the {@link HttpLimiter}. A rule built from a
 * {@link RateLimiter} uses that limiter (shared with other code, or backed by another store) and
 * never closes it. Each rule's buckets are its own: two rules never share a bucket.
 *
 * <p><b>Plans.</b> A rule over {@link Plans} decides each key under its plan's policy; the plans'
 * function is given the key material the rule's resolver returned, before it is hashed (for the
 * built-in resolvers, with its kind: {@code "header:x-api-key:" + value}, {@code "principal:" +
 * name}...). {@link Plans#update} takes effect at the next request of every key, which keeps its
 * permits by the carry-over rule; the headers describe the key's own policy.
 *
 * <p><b>Shadow rules</b> ({@link Builder#shadow}) decide and take exactly as if enforcing, but a
 * would-be refusal lets the request through, recorded in {@link Verdict#shadowRefusals()}.
 *
 * <p><b>Charge-on rules</b> ({@link Builder#chargeOn(IntPredicate)}) keep a request's permits
 * only if its response's final status matches: taken before the response, given back after it
 * ({@link Verdict#complete}) when the status does not match; while pending, the permits count.
 *
 * <p><b>Queueing rules</b> ({@link Builder#maxWait}) make an excess request wait for its permits
 * instead of refusing it, up to the rule's wait: {@link Verdict#waitNanos()} says how long, and
 * {@link Verdict#cancel()} gives the permits back if the request is abandoned.
 *
 * <p>Immutable.
 */
public final class Rule {

  /** How many policies' header texts a rule with changing policies keeps. */
  private static final int TEXTS = 8;

  private final String name;
  /** The policy of a rule built from a limit or policy; with plans or a limiter, the first seen. */
  private final Policy policy;
  private final RateLimiter<String> limiter;
  private final Plans<String> plans;
  private final String firstPlan;
  private final List<PathPattern> paths;
  private final Set<String> methods;
  private final ToLongFunction<RequestView> permits;
  private final KeyResolver key;
  private final boolean shadow;
  private final boolean headers;
  private final IntPredicate chargeOn;
  private final String chargeOnText;
  private final Duration maxWait;
  private final long maxWaitNanos;
  private final PolicyText fixedText;
  /** Texts of the policies seen since (plans, live updates): copy on write, found by identity. */
  private volatile PolicyText[] texts = new PolicyText[0];

  private Rule(Builder b) {
    this.name = b.name;
    this.policy = b.policy;
    this.limiter = b.limiter;
    this.plans = b.plans;
    this.firstPlan = b.plans == null ? null : b.plans.plans().keySet().iterator().next();
    this.shadow = b.limiter != null ? b.limiter.shadow() : b.shadow;
    this.headers = b.headers != null ? b.headers : !shadow;
    this.chargeOn = b.chargeOn;
    this.chargeOnText = b.chargeOnText;
    this.maxWait = b.maxWait;
    this.maxWaitNanos = saturatedNanos(b.maxWait);
    this.paths = List.copyOf(b.paths.isEmpty() ? List.of(PathPattern.compile("/**")) : b.paths);
    Set<String> m = new TreeSet<>(b.methods);
    if (m.contains("GET")) {
      m.add("HEAD"); // a HEAD is a GET without the body: a GET rule covers it
    }
    this.methods = Set.copyOf(m);
    this.permits = b.permits;
    this.key = b.key;
    this.fixedText = new PolicyText(name, policy);
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
    return new Builder(checkName(name), Objects.requireNonNull(policy, "policy"), null, null);
  }

  /**
   * A rule with its own limiter deciding each key under its plan's policy. The plans' function
   * is given the key material the rule's resolver returns, before hashing (see the class
   * comment); {@link Plans#update} changes a plan live.
   *
   * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}
   * @param plans the plans, assigning a plan by key material
   * @return a builder
   */
  public static Builder builder(String name, Plans<String> plans) {
    Objects.requireNonNull(plans, "plans");
    return new Builder(checkName(name), plans.plans().values().iterator().next(), null, plans);
  }

  /**
   * A rule drawing on an existing limiter, named after it; the HTTP limiter never closes it. The
   * rule is a shadow rule if and only if the limiter is in shadow mode
   * ({@link RateLimiter#shadow()}). A limiter built with plans is given the hashed key: to
   * assign plans by the key material, use {@link #builder(String, Plans)}.
   *
   * @param limiter the limiter, keyed by the hashed key
   * @return a builder
   */
  public static Builder builder(RateLimiter<String> limiter) {
    Objects.requireNonNull(limiter, "limiter");
    return new Builder(checkName(limiter.name()), limiter.policy(), limiter, null);
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
   * The limits enforced per key, now. For a rule over {@link Plans}, each key has its plan's
   * policy and this is the first plan's (as {@link RateLimiter#policy()}); for a rule over a
   * limiter, the limiter's current {@link RateLimiter#policy()}.
   *
   * @return the policy
   */
  public Policy policy() {
    if (plans != null) {
      return plans.policy(firstPlan);
    }
    return limiter != null ? limiter.policy() : policy;
  }

  /**
   * Whether this is a shadow rule: it decides and takes as if enforcing, and lets through the
   * requests it would refuse ({@link Builder#shadow}).
   *
   * @return true for a shadow rule
   */
  public boolean shadow() {
    return shadow;
  }

  RateLimiter<String> limiter() {
    return limiter;
  }

  Plans<String> plans() {
    return plans;
  }

  KeyResolver key() {
    return key;
  }

  /** Whether this rule's decisions appear in the rate-limit headers. */
  boolean headers() {
    return headers;
  }

  /** Whether a request whose response ended with {@code status} keeps its permits. */
  boolean charges(int status) {
    return chargeOn == null || chargeOn.test(status);
  }

  /**
   * The longest an excess request waits for its permits before it is refused
   * ({@link Builder#maxWait}); zero for a rule that refuses at once.
   *
   * @return the wait, zero or more
   */
  public Duration maxWait() {
    return maxWait;
  }

  /** {@link #maxWait()} in nanoseconds, saturated at {@code Long.MAX_VALUE}. */
  long maxWaitNanos() {
    return maxWaitNanos;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  /** Whether this rule charges only some statuses (its permits settle after the response). */
  boolean chargesOnStatus() {
    return chargeOn != null;
  }

  /**
   * The header texts of policy {@code p}: built once per policy, found by identity (a rule whose
   * policy does not change finds its own at once; plans hold a few; a policy replaced often
   * keeps the {@value #TEXTS} most recent).
   */
  PolicyText text(Policy p) {
    if (p == fixedText.policy) {
      return fixedText;
    }
    PolicyText[] seen = texts;
    for (PolicyText t : seen) {
      if (t.policy == p) {
        return t;
      }
    }
    PolicyText t = new PolicyText(name, p);
    PolicyText[] next = Arrays.copyOf(seen, Math.min(seen.length + 1, TEXTS));
    System.arraycopy(seen, 0, next, 1, next.length - 1); // newest first, the oldest falls off
    next[0] = t;
    texts = next; // a lost race only costs building a text again
    return t;
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
        + ", " + (plans != null ? plans : policy()) + (shadow ? ", shadow" : "")
        + (chargeOnText != null ? ", charge on " + chargeOnText : "")
        + (maxWaitNanos > 0 ? ", max wait " + maxWait : "") + "]";
  }

  /** Builds a {@link Rule}. Not thread-safe. */
  public static final class Builder {

    private final String name;
    private final Policy policy;
    private final RateLimiter<String> limiter;
    private final Plans<String> plans;
    private final List<PathPattern> paths = new ArrayList<>();
    private final Set<String> methods = new TreeSet<>();
    private ToLongFunction<RequestView> permits = r -> 1L;
    private KeyResolver key;
    private boolean shadow;
    private Boolean headers;
    private IntPredicate chargeOn;
    private String chargeOnText;
    private Duration maxWait = Duration.ZERO;

    private Builder(String name, Policy policy, RateLimiter<String> limiter, Plans<String> plans) {
      this.name = name;
      this.policy = policy;
      this.limiter = limiter;
      this.plans = plans;
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
     * Shadow mode (default off): decide and take exactly as if enforcing, but let through the
     * requests this rule would refuse, recorded in {@link Verdict#shadowRefusals()} (and, for the
     * rule's own limiter, as shadow decisions). Sends no rate-limit headers unless
     * {@link #headers(boolean) headers(true)}. With other rules on the same request: a would-be
     * refusal here refuses nothing and gives back nothing the other rules took; a refusal by an
     * enforced rule gives back this rule's permits too, as it does every other rule's (so this
     * rule's buckets count what they would count if it enforced). For trying a limit on live
     * traffic before enforcing it.
     *
     * @param on whether the rule runs in shadow mode
     * @return this builder
     * @throws IllegalStateException if the rule draws on a limiter whose own shadow mode
     *     ({@link RateLimiter#shadow()}) differs: set it on that limiter
     */
    public Builder shadow(boolean on) {
      if (limiter != null && limiter.shadow() != on) {
        throw new IllegalStateException("rule \"" + name + "\" draws on limiter " + limiter.name()
            + ", which " + (limiter.shadow() ? "is" : "is not")
            + " in shadow mode: set shadow mode on the limiter (RateLimiter.Builder.shadow)");
      }
      this.shadow = on;
      return this;
    }

    /**
     * Whether this rule's decisions appear in the rate-limit headers (default: yes, and no for a
     * shadow rule, whose counts a client should not see before the limit is enforced). A rule
     * left out is still decided; the headers describe the other rules.
     *
     * @param send whether to describe this rule in the headers
     * @return this builder
     */
    public Builder headers(boolean send) {
      this.headers = send;
      return this;
    }

    /**
     * Charges only the requests whose response ends with one of {@code statuses}, for example
     * {@code chargeOn(401, 403)} to count failed logins only. See
     * {@link #chargeOn(IntPredicate)}.
     *
     * @param statuses at least one, each from 100 to 599
     * @return this builder
     * @throws IllegalArgumentException if there is no status or one is out of range
     */
    public Builder chargeOn(int... statuses) {
      Objects.requireNonNull(statuses, "statuses");
      if (statuses.length == 0) {
        throw new IllegalArgumentException(
            "chargeOn needs at least one status (got none), each from 100 to 599");
      }
      boolean[] charged = new boolean[600];
      for (int s : statuses) {
        checkStatus("chargeOn status", s);
        charged[s] = true;
      }
      int[] sorted = Arrays.stream(statuses).distinct().sorted().toArray();
      this.chargeOn = s -> s >= 100 && s <= 599 && charged[s];
      this.chargeOnText = Arrays.toString(sorted);
      return this;
    }

    /**
     * Charges only the requests whose response's final status passes {@code statuses}: the
     * permits are taken before the request goes on (so that concurrent requests see them
     * taken: nothing over-admits while a response is pending), and given back after the
     * response ({@link Verdict#complete}) when its status does not match, by
     * {@link RateLimiter#refund} (never more than taken, never above the capacity, less the
     * refill earned while pending). A request refused by the limit is not passed on, so it
     * never has a status to match.
     *
     * @param statuses the statuses that keep the charge, thread-safe (for example
     *     {@code s -> s >= 500})
     * @return this builder
     */
    public Builder chargeOn(IntPredicate statuses) {
      this.chargeOn = Objects.requireNonNull(statuses, "statuses");
      this.chargeOnText = "a predicate";
      return this;
    }

    /**
     * Queues instead of refusing (default {@link Duration#ZERO}: refuse at once): a request this
     * rule cannot admit now reserves its permits if they will be due within {@code wait}
     * ({@link RateLimiter#reserve}), and goes on when they are due, as nginx's {@code limit_req}
     * without {@code nodelay}; one that would wait longer is refused (429, with
     * {@code Retry-After}), and one costing more than the capacity is refused definitely, never
     * queued. Queued requests of a key are due in the order they were reserved, each at the
     * earliest instant the exact bucket holds its permits. With several rules all-or-nothing
     * holds: if any enforced rule refuses, the other rules' reservations are cancelled and their
     * permits given back. A shadow rule never delays a request: a request it would have queued
     * is not one of its {@link Verdict#shadowRefusals()} and takes its permits as if enforcing.
     * The rule's store must be able to reserve (in memory, Redis); one that cannot refuses as
     * with a zero wait.
     *
     * @param wait the longest wait, zero or more
     * @return this builder
     * @throws IllegalArgumentException if {@code wait} is negative
     */
    public Builder maxWait(Duration wait) {
      Objects.requireNonNull(wait, "wait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException(
            "rule \"" + name + "\": maxWait (" + wait + ") must be at least 0");
      }
      this.maxWait = wait;
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

  /** Checks an HTTP status at the door. */
  static int checkStatus(String what, int status) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException(what + " (" + status + ") must be from 100 to 599");
    }
    return status;
  }
}
