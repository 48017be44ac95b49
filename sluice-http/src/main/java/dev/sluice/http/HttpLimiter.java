package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimitListener;
import dev.sluice.RateLimiter;
import dev.sluice.Reservation;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Framework-neutral HTTP rate limiting, the strategy that decides: for a {@link RequestView}, the
 * {@link Rule}s that match it draw permits from the bucket of the request's key, and the answer
 * is a {@link Verdict}, data that a framework adapter (the servlet filter, a WebFlux filter)
 * writes out: pass or refuse, the rate-limit headers ({@link HeaderGroup}), the RFC 9457 problem.
 *
 * <pre>{@code
 * HttpLimiter limiter = HttpLimiter.builder()
 *     .key(KeyResolver.clientIp(TrustedProxies.of("10.0.0.0/8")))
 *     .rule(Rule.builder("api", Limit.perSecond(10).withCapacity(20)).paths("/api/**").build())
 *     .exempt("/health")
 *     .build();
 * Verdict v = limiter.decide(requestView);
 * }</pre>
 *
 * <h2>Several rules: all-or-nothing</h2>
 * A request matched by several rules is admitted only if every rule has its permits, and a
 * request refused by one rule takes nothing from the others: every rule decides, and if any
 * refuses, the others give back what they took ({@link RateLimiter#refund}), less the refill
 * they earned while the permits were out (measured on this object's ticker, from before the
 * first decision to the refund: microseconds in memory), so a refund never lets more through
 * than the limit. With two or more rules, every request of this object takes a striped lock per
 * (rule, key), so no request of this node sees permits that are about to be given back. What
 * remains: another node (or other code sharing a limiter) may see those permits missing for the
 * moment between take and refund (a refusal it would not otherwise get; never an extra
 * admission); the refill earned in that moment is not given back; a permit taken under a
 * failure mode ({@code LOCAL} fallback), or by a store that cannot refund, is not given back at
 * all. Each of these under-admits, never over-admits. An object with one rule takes no lock and
 * never refunds for all-or-nothing.
 *
 * <h2>Hot keys: the lock is waited for, at most, the lock wait</h2>
 * The lock is held across the store calls of one request (a take per rule, and the refunds), so
 * with a remote store a request behind it would wait for other requests' round trips, one after
 * another: with a store slow by 20 ms, 20 concurrent requests of one key took 1.7 s. So a request
 * waits for its stripes at most {@link Builder#lockWait} (default 50 ms) in all, in real time;
 * then it releases the stripes it has and decides without them, as {@link #decideAsync} always
 * does. That never over-admits: each rule's bucket is decided atomically by its store whoever
 * holds a stripe, and a refund gives back at most what its request took, less the refill earned
 * since before the take ({@link RateLimiter#refund}), a rule that holds whatever other requests
 * did in between. What the lock protected is lost for that request only: it and the request
 * holding the stripe may each find permits missing that the other is about to give back (both
 * take, one refuses and refunds: a refusal the lock would have spared), and a queueing rule's
 * reservation cancelled after another request wrote to its bucket gives nothing back
 * ({@link Reservation#cancel}). Under-admission, never over.
 *
 * <p>Shadow rules ({@link Rule#shadow()}) take part as if they enforced, with one difference:
 * their would-be refusals refuse nothing, so they give back nothing the other rules took. A
 * refusal by an enforced rule gives back a shadow rule's permits like any other's.
 *
 * <h2>Charge-on rules: settled after the response</h2>
 * A rule built with {@link Rule.Builder#chargeOn(java.util.function.IntPredicate)} takes its
 * permits before the request goes on, like any rule, and the adapter reports the response's
 * final status with {@link Verdict#complete}: the rules whose statuses do not match give their
 * permits back then ({@link RateLimiter#refund}, less the refill earned while the response was
 * pending, measured on this object's ticker; with the ticker still, exactly). While a response
 * is pending, its permits count: a concurrent request sees them taken.
 *
 * <h2>Queueing rules: waiting instead of refusing</h2>
 * A rule built with {@link Rule.Builder#maxWait} decides as any rule; when it refuses a request
 * that can succeed, it reserves the permits instead ({@link RateLimiter#reserve}), and if they
 * will be due within its wait the request is admitted to wait: {@link Verdict#waitNanos()} is
 * the wait, and the adapter passes it on when it is over ({@link Verdict#await()},
 * {@link Verdict#whenDue()}), or gives it up with {@link Verdict#cancel()}. A request that
 * would wait longer is refused (429, {@code Retry-After}); one costing more than a capacity is
 * refused definitely (no {@code Retry-After}), never queued. All-or-nothing holds: a refusal by
 * an enforced rule cancels the other rules' reservations (under the stripes, so each is still
 * its bucket's latest write and gives its permits back) and refunds their decisions. The
 * decision returns before the wait: no lock is held while a request waits. A queued request's
 * headers describe its bucket at its due instant (no permit left in the limit that made it
 * wait). A charge-on rule may queue too: its permits count from the due instant, and a refund
 * after the response is measured from there. Listeners hear a request that queues twice: the
 * refusal that made it queue and the reservation (allowed if granted). Under the {@code LOCAL}
 * fallback a queueing rule refuses as one without a wait.
 *
 * <h2>What is limited</h2>
 * Exempt paths pass untouched, without headers. A rule for {@code GET} covers {@code HEAD}. A rule
 * whose key is missing (no key, or an empty or blank one) refuses the request
 * ({@link MissingKey#DENY}, the default, 403) or does not apply to it ({@link MissingKey#ALLOW}).
 *
 * <h2>When the store cannot decide</h2>
 * A limiter whose store is unavailable answers with its {@link dev.sluice.FailureMode}: a
 * fail-open admission passes with no rate-limit headers (there is no count behind them); a
 * fail-closed refusal is {@link Rejection.Reason#UNAVAILABLE} (503, not 429), with no rate-limit
 * headers and no {@code Retry-After}; a local-fallback decision is a real decision by this node's
 * buckets and is answered like any other. With several rules, a quota refusal by any of them wins
 * over an unavailable store (429).
 *
 * <h2>Lifecycle</h2>
 * {@link #close()} closes the limiters this object created for rules built from a limit or
 * policy, never limiters passed in. Thread-safe.
 */
public final class HttpLimiter implements AutoCloseable {

  private static final int STRIPES = 256;

  /** The longest lock wait a builder accepts. */
  private static final Duration MAX_LOCK_WAIT = Duration.ofSeconds(60);

  private final Rule[] rules;
  private final RateLimiter<String>[] limiters;
  private final boolean[] owned;
  private final List<PathPattern> exempt;
  private final KeyResolver defaultKey;
  private final Set<HeaderGroup> headers;
  private final MissingKey missingKey;
  private final ReentrantLock[] stripes;
  private final long lockWaitNanos;
  /** Requests that decided without their stripes: one stayed busy past the lock wait. */
  private final LongAdder unlocked = new LongAdder();
  /** The longest any request waited for its stripes, in real nanoseconds. */
  private final LongAccumulator longestLockWait = new LongAccumulator(Math::max, 0);
  private final Ticker ticker;
  private final AtomicBoolean closed = new AtomicBoolean();

  @SuppressWarnings("unchecked")
  private HttpLimiter(Builder b) {
    int n = b.rules.size();
    this.rules = b.rules.toArray(new Rule[0]);
    this.limiters = (RateLimiter<String>[]) new RateLimiter<?>[n];
    this.owned = new boolean[n];
    try {
      for (int i = 0; i < n; i++) {
        Rule r = rules[i];
        if (r.limiter() != null) {
          limiters[i] = r.limiter();
        } else {
          RateLimiter.Builder lb = r.plans() != null
              ? RateLimiter.builder(r.plans().keyedBy(HttpLimiter::material))
              : RateLimiter.builder(r.policy());
          lb.name(r.name()).ticker(b.ticker).store(b.store).shadow(r.shadow())
              .failureMode(b.failureMode);
          if (b.listener != null) {
            lb.listener(b.listener);
          }
          limiters[i] = lb.build();
          owned[i] = true;
        }
      }
    } catch (RuntimeException | Error e) {
      closeOwned(); // a failed build leaks nothing it created
      throw e;
    }
    this.exempt = List.copyOf(b.exempt);
    this.defaultKey = b.key;
    this.headers = Collections.unmodifiableSet(EnumSet.copyOf(b.headers));
    this.missingKey = b.missingKey;
    this.ticker = b.ticker;
    this.lockWaitNanos = b.lockWait.toNanos();
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
   * {@link MissingKey#DENY}, the in-memory store and the system ticker. At least one rule (or
   * {@link Builder#limit}) is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Decides {@code request}: takes the permits of every rule that applies, or none.
   *
   * @param request the request
   * @return what to do with it
   */
  @SuppressWarnings("unchecked")
  public Verdict decide(RequestView request) {
    Object prepared = prepare(request);
    if (prepared instanceof Verdict v) {
      return v;
    }
    List<Outcome> outcomes = (List<Outcome>) prepared;
    boolean charging = false;
    for (int i = 0; i < outcomes.size(); i++) {
      charging |= outcomes.get(i).rule.chargesOnStatus();
    }
    boolean queueing = false;
    for (int i = 0; i < outcomes.size(); i++) {
      queueing |= outcomes.get(i).rule.maxWaitNanos() > 0;
    }
    boolean timed = charging || queueing || outcomes.size() > 1;
    long start;
    boolean admitted;
    int[] held = lock(outcomes);
    try {
      // Read before anything is taken (after the stripes: waiting for them holds no permit):
      // the time a refund subtracts runs from here.
      start = timed ? ticker.read() : 0;
      admitted = decideAll(outcomes, start);
    } finally {
      unlock(held, held == null ? 0 : held.length);
    }
    Outcome binding = binding(outcomes, admitted, ENFORCED);
    Outcome described = binding(outcomes, admitted, DESCRIBED);
    String[] written = described == null ? Verdict.NO_HEADERS
        : Headers.build(headers, outcomes, described, this);
    List<String> shadowRefusals = shadowRefusals(outcomes);
    if (admitted) {
      if (binding == null) {
        binding = binding(outcomes, true, SHADOW);
      }
      Charges charges = charging ? charges(outcomes, start) : null;
      return new Verdict(binding == null ? outcomes.get(0).decision : binding.decision, null,
          written, shadowRefusals, charges, queueing ? waits(outcomes, start, charges) : null);
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
      return new Verdict(failed,
          new Rejection(Rejection.Reason.UNAVAILABLE, refusing, 0, failed, null), written,
          shadowRefusals, null);
    }
    for (Outcome o : outcomes) {
      if (o.decision != null && !o.decision.allowed() && counted(o.decision)) {
        refusing.add(o.rule.name());
      }
    }
    Rejection.Reason reason = binding.decision.canEverSucceed()
        ? Rejection.Reason.QUOTA_EXCEEDED : Rejection.Reason.EXCEEDS_CAPACITY;
    return new Verdict(binding.decision,
        new Rejection(reason, refusing, binding.cost, binding.decision, null), written,
        shadowRefusals, null);
  }

  /**
   * The asynchronous form of {@link #decide}, for adapters that must not block (WebFlux): the
   * same rules, keys, all-or-nothing, shadow, charge-on and failure modes, and the same verdict,
   * later. Every store call goes through the store's asynchronous path
   * ({@link RateLimiter#decideAsync}, {@link RateLimiter#refundAsync}), so the calling thread
   * never waits: with the in-memory store the stage is complete on return; with a remote store
   * it completes on the store client's thread (Redis: a Lettuce I/O thread), where whatever the
   * caller chains on it runs too. Exempt, unlimited and missing-key verdicts are complete on
   * return.
   *
   * <p><b>Several rules.</b> The rules of one request decide concurrently (one round trip's time,
   * not one per rule), and if any enforced rule refuses, the others give back what they took,
   * less the refill earned since before the first decision, as {@link #decide} does; the stage
   * completes after those refunds are answered (a refund the store cannot apply is dropped:
   * under-admission). Unlike {@link #decide}, no lock is held (a lock held across an
   * asynchronous call would stall the thread that waits for it): between a take and its refund,
   * another request of this node, too, may find those permits missing and be refused, as a
   * request of another node can with {@link #decide}. That is the only difference: a refusal
   * that the locked path would not give, never an extra admission, since a refund never returns
   * more than was taken less the refill earned meanwhile.
   *
   * <p><b>Waits.</b> This path does not queue: a rule with a wait ({@link Rule.Builder#maxWait})
   * decides here as one without, refusing at once ({@link #decide} queues). The WebFlux filter
   * refuses such rules when it is built, so no rule's wait is dropped unnoticed.
   *
   * @param request the request, read on the calling thread only (before this returns)
   * @return what to do with it, later; completed exceptionally where {@link #decide} would throw
   */
  public CompletionStage<Verdict> decideAsync(RequestView request) {
    Object prepared;
    try {
      prepared = prepare(request);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (prepared instanceof Verdict v) {
      return CompletableFuture.completedFuture(v);
    }
    @SuppressWarnings("unchecked")
    List<Outcome> outcomes = (List<Outcome>) prepared;
    boolean charging = false;
    for (int i = 0; i < outcomes.size(); i++) {
      charging |= outcomes.get(i).rule.chargesOnStatus();
    }
    boolean chargingOn = charging;
    // Read before anything is taken: the time a refund subtracts runs from here.
    long start = charging || outcomes.size() > 1 ? ticker.read() : 0;
    CompletionStage<Boolean> admitted;
    try {
      if (outcomes.size() == 1) {
        // One rule: no stage of our own while the store has answered already (in memory).
        Outcome o = outcomes.get(0);
        CompletableFuture<Decision> taken = takeAsync(o).toCompletableFuture();
        if (taken.isDone() && !taken.isCompletedExceptionally()) {
          o.decision = taken.join();
          return CompletableFuture.completedFuture(
              verdict(outcomes, o.decision.allowed(), chargingOn, start));
        }
        admitted = taken.thenApply(d -> {
          o.decision = d;
          return d.allowed();
        });
      } else {
        admitted = decideAllAsync(outcomes, start);
      }
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return admitted.thenApply(all -> verdict(outcomes, all, chargingOn, start));
  }

  /**
   * The first half of {@link #decideAsync}, on the calling thread: the verdict when no store need
   * be asked (exempt, unlimited, missing key), else the outcomes of the rules that apply, in rule
   * order, each with its key and cost (and no decision yet). The first half of {@link #decide}
   * too.
   */
  Object prepare(RequestView request) {
    String path = request.path();
    for (PathPattern p : exempt) {
      if (p.matches(path)) {
        return Verdict.UNLIMITED;
      }
    }
    String method = request.method();
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
        material = Resolvers.present(resolver.resolve(request));
      } else {
        if (resolved == null) {
          resolved = new IdentityHashMap<>(4);
        }
        material = resolved.get(resolver);
        if (material == null) {
          material = Resolvers.present(resolver.resolve(request));
          resolved.put(resolver, material);
        }
      }
      if (material.isEmpty()) {
        if (missingKey == MissingKey.DENY) {
          return new Verdict(null, new Rejection(Rejection.Reason.MISSING_KEY,
              List.of(rule.name()), 0, null, resolver.describe()), Verdict.NO_HEADERS);
        }
        continue;
      }
      Outcome o = new Outcome(rule, limiters[i], i, Keys.hash(material.get()), material.get(),
          cost);
      if (rules.length == 1) {
        outcomes = List.of(o); // the common case: no list to grow
      } else {
        if (outcomes == null) {
          outcomes = new ArrayList<>(rules.length);
        }
        outcomes.add(o);
      }
    }
    return outcomes == null ? Verdict.UNLIMITED : outcomes;
  }

  /**
   * Two or more rules decide, asynchronously and at once; if any enforced rule refuses, the rules that
   * took permits give them back ({@link #giveBackAsync}) and their decisions are dropped, as in
   * {@link #decideAll}. Completes, with whether all admitted, once every decision and refund is
   * answered.
   */
  private CompletionStage<Boolean> decideAllAsync(List<Outcome> outcomes, long start) {
    CompletableFuture<?>[] takes = new CompletableFuture<?>[outcomes.size()];
    for (int i = 0; i < takes.length; i++) {
      Outcome o = outcomes.get(i);
      takes[i] = takeAsync(o).thenAccept(d -> o.decision = d).toCompletableFuture();
    }
    return CompletableFuture.allOf(takes).thenCompose(done -> {
      boolean all = true;
      for (Outcome o : outcomes) {
        all &= o.decision.allowed();
      }
      if (all) {
        return CompletableFuture.completedFuture(true);
      }
      Duration held = heldSince(start);
      List<CompletableFuture<?>> refunds = new ArrayList<>(outcomes.size());
      for (Outcome o : outcomes) {
        Decision d = o.decision;
        if (d.allowed() && !d.wouldRefuse() && d.source() != Decision.Source.FAILURE_OPEN) {
          if (o.holdsPermits()) {
            refunds.add(giveBackAsync(o, held).toCompletableFuture());
          }
          o.decision = null;
        }
      }
      return CompletableFuture.allOf(refunds.toArray(new CompletableFuture<?>[0]))
          .thenApply(refunded -> false);
    });
  }

  /** {@code o}'s limiter decides {@code o}, asynchronously. */
  private static CompletionStage<Decision> takeAsync(Outcome o) {
    String previous = enter(o);
    try {
      return o.limiter.decideAsync(o.key, o.cost);
    } finally {
      leave(previous);
    }
  }

  /**
   * The asynchronous form of {@link #giveBack}: the same refund through
   * {@link RateLimiter#refundAsync}; a store that cannot give back keeps the permits.
   */
  CompletionStage<Boolean> giveBackAsync(Outcome o, Duration held) {
    String previous = enter(o);
    try {
      long n = Math.min(o.cost, o.limiter.policy(o.key).maxPermitsPerRequest());
      return o.limiter.refundAsync(o.key, n, held);
    } catch (UnsupportedOperationException cannot) {
      // a store that cannot refund keeps the permits: under-admission, never over
      return CompletableFuture.completedFuture(false);
    } finally {
      leave(previous);
    }
  }

  /**
   * The verdict once every outcome has its decision ({@code admitted}: whether all admitted);
   * the same as the second half of {@link #decide}.
   */
  Verdict verdict(List<Outcome> outcomes, boolean admitted, boolean charging, long start) {
    Outcome binding = binding(outcomes, admitted, ENFORCED);
    Outcome described = binding(outcomes, admitted, DESCRIBED);
    String[] written = described == null ? Verdict.NO_HEADERS
        : Headers.build(headers, outcomes, described, this);
    List<String> shadowRefusals = shadowRefusals(outcomes);
    if (admitted) {
      if (binding == null) {
        binding = binding(outcomes, true, SHADOW);
      }
      return new Verdict(binding == null ? outcomes.get(0).decision : binding.decision, null,
          written, shadowRefusals, charging ? charges(outcomes, start) : null);
    }
    List<String> refusing = new ArrayList<>(1);
    if (binding == null) {
      Decision failed = null;
      for (Outcome o : outcomes) {
        if (o.decision != null && !o.decision.allowed()) {
          refusing.add(o.rule.name());
          failed = o.decision;
        }
      }
      return new Verdict(failed,
          new Rejection(Rejection.Reason.UNAVAILABLE, refusing, 0, failed, null), written,
          shadowRefusals, null);
    }
    for (Outcome o : outcomes) {
      if (o.decision != null && !o.decision.allowed() && counted(o.decision)) {
        refusing.add(o.rule.name());
      }
    }
    Rejection.Reason reason = binding.decision.canEverSucceed()
        ? Rejection.Reason.QUOTA_EXCEEDED : Rejection.Reason.EXCEEDS_CAPACITY;
    return new Verdict(binding.decision,
        new Rejection(reason, refusing, binding.cost, binding.decision, null), written,
        shadowRefusals, null);
  }

  /** The shadow rules that would have refused, in rule order (usually none: no allocation). */
  private static List<String> shadowRefusals(List<Outcome> outcomes) {
    List<String> names = null;
    for (Outcome o : outcomes) {
      if (o.decision != null && o.decision.wouldRefuse()) {
        if (names == null) {
          names = new ArrayList<>(1);
        }
        names.add(o.rule.name());
      }
    }
    return names == null ? List.of() : List.copyOf(names);
  }

  /** What an admitted request's charge-on rules hold, to settle after the response; or null. */
  private Charges charges(List<Outcome> outcomes, long start) {
    int n = 0;
    for (Outcome o : outcomes) {
      if (o.rule.chargesOnStatus() && o.holdsPermits()) {
        n++;
      }
    }
    if (n == 0) {
      return null;
    }
    Outcome[] held = new Outcome[n];
    n = 0;
    for (Outcome o : outcomes) {
      if (o.rule.chargesOnStatus() && o.holdsPermits()) {
        held[n++] = o;
      }
    }
    return new Charges(this, start, held);
  }

  /**
   * What an admitted request must wait for (its queueing rules' reservations), with what to give
   * back if it is abandoned; or null if it may go on at once.
   */
  private Waits waits(List<Outcome> outcomes, long start, Charges charges) {
    long wait = 0;
    int reserved = 0;
    int held = 0;
    for (Outcome o : outcomes) {
      if (o.reservation != null) {
        reserved++;
        wait = Math.max(wait, o.waitNanos);
      }
      if (o.reservation != null || o.holdsPermits()) {
        held++;
      }
    }
    if (reserved == 0) {
      return null;
    }
    Reservation[] rs = new Reservation[reserved];
    Outcome[] hs = new Outcome[held];
    reserved = 0;
    held = 0;
    for (Outcome o : outcomes) {
      if (o.reservation != null) {
        rs[reserved++] = o.reservation;
      }
      if (o.reservation != null || o.holdsPermits()) {
        hs[held++] = o;
      }
    }
    return new Waits(this, ticker, start, hs, rs, wait, ticker.read(), charges);
  }

  /** The time since {@code start} on this object's ticker (never negative). */
  Duration heldSince(long start) {
    return Duration.ofNanos(Math.max(0, ticker.read() - start));
  }

  /**
   * Gives back the permits {@code o} took, {@code held} ago at most: never more than taken (nor
   * more than the key's policy allows now, should a plan have shrunk meanwhile). A store that
   * cannot give permits back, or cannot be reached, keeps them: under-admission, never over.
   */
  void giveBack(Outcome o, Duration held) {
    String previous = enter(o);
    try {
      long n = Math.min(o.cost, o.limiter.policy(o.key).maxPermitsPerRequest());
      o.limiter.refund(o.key, n, held);
    } catch (UnsupportedOperationException cannot) {
      // a store that cannot refund keeps the permits: under-admission, never over
    } finally {
      leave(previous);
    }
  }

  /**
   * The key material of the request deciding on this thread, for a plan rule's limiter (whose
   * plans assign by material while its buckets are keyed by the hash). Set only around this
   * object's calls to such a limiter.
   */
  private static final ThreadLocal<String> MATERIAL = new ThreadLocal<>();

  private static String material(String hashedKey) {
    String m = MATERIAL.get();
    if (m == null) {
      throw new IllegalStateException(
          "a plan rule's limiter was called outside its HTTP limiter");
    }
    return m;
  }

  /** Makes {@code o}'s material visible to its plans for the call that follows; see {@link #leave}. */
  private static String enter(Outcome o) {
    if (o.material == null) {
      return null;
    }
    String previous = MATERIAL.get();
    MATERIAL.set(o.material);
    return previous;
  }

  private static void leave(String previous) {
    MATERIAL.set(previous);
  }

  /** {@code o}'s limiter decides {@code o}. */
  private static Decision take(Outcome o) {
    String previous = enter(o);
    try {
      return Queueing.reserveIfQueued(o, o.limiter.decide(o.key, o.cost));
    } finally {
      leave(previous);
    }
  }

  /** The policy {@code o}'s key is decided under now. */
  Policy policyOf(Outcome o) {
    Rule r = o.rule;
    if (r.plans() != null) {
      return r.plans().policyFor(o.material);
    }
    return r.limiter() == null ? r.policy() : o.limiter.policy(o.key);
  }

  /**
   * Takes the stripes of {@code outcomes}' (rule, key) pairs, in ascending order, waiting for them
   * at most the lock wait in all (real time: a lock is waited for on the system clock, whatever
   * the ticker). Returns the stripes held (distinct, ascending), or null when this object has no
   * stripes (one rule) or one stayed busy past the wait (or the thread was interrupted while
   * waiting; the flag is kept): the request then decides without any, which may under-admit and
   * never over-admits (see the class comment).
   */
  private int[] lock(List<Outcome> outcomes) {
    if (stripes == null) {
      return null;
    }
    int[] locks = new int[outcomes.size()];
    for (int i = 0; i < locks.length; i++) {
      Outcome o = outcomes.get(i);
      int h = o.key.hashCode() * 31 + o.index;
      locks[i] = (h ^ (h >>> 16)) & (STRIPES - 1);
    }
    Arrays.sort(locks);
    int distinct = 0;
    for (int i = 0; i < locks.length; i++) {
      if (i == 0 || locks[i] != locks[i - 1]) {
        locks[distinct++] = locks[i];
      }
    }
    int held = 0;
    long waitFrom = 0;
    boolean waited = false;
    try {
      for (; held < distinct; held++) {
        ReentrantLock stripe = stripes[locks[held]];
        if (stripe.tryLock()) {
          continue; // uncontended: no clock read
        }
        if (!waited) {
          waited = true;
          waitFrom = System.nanoTime();
        }
        long left = lockWaitNanos - (System.nanoTime() - waitFrom);
        if (left <= 0 || !stripe.tryLock(left, TimeUnit.NANOSECONDS)) {
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // decide at once, without the stripe
    }
    if (waited) {
      longestLockWait.accumulate(System.nanoTime() - waitFrom);
    }
    if (held == distinct) {
      return distinct == locks.length ? locks : Arrays.copyOf(locks, distinct);
    }
    unlock(locks, held);
    unlocked.increment();
    return null;
  }

  /** Releases the first {@code n} of {@code locks} (from {@link #lock}), last first. */
  private void unlock(int[] locks, int n) {
    for (int i = n - 1; i >= 0; i--) {
      stripes[locks[i]].unlock();
    }
  }

  /**
   * How many requests decided without their stripes because one stayed busy past the lock wait
   * (or the thread was interrupted while waiting): each may under-admit, none over-admits.
   */
  long unlockedDecisions() {
    return unlocked.sum();
  }

  /**
   * The longest any request waited for its stripes so far, in real nanoseconds (0 if none had to
   * wait): from its first busy stripe to holding them all, or to giving up.
   */
  long longestLockWaitNanos() {
    return longestLockWait.get();
  }

  /**
   * Every rule decides; if any enforced rule refuses, the rules that took permits (shadow rules
   * too) give them back and their decisions are dropped (they describe permits no longer taken).
   * A shadow rule never refuses (its would-be refusal comes back allowed, having taken nothing),
   * so it never causes a refund.
   */
  private boolean decideAll(List<Outcome> outcomes, long start) {
    if (outcomes.size() == 1) {
      Outcome o = outcomes.get(0);
      o.decision = take(o);
      return o.decision.allowed();
    }
    boolean all = true;
    for (Outcome o : outcomes) {
      o.decision = take(o);
      all &= o.decision.allowed();
    }
    if (all) {
      return true;
    }
    Duration held = heldSince(start);
    for (Outcome o : outcomes) {
      Decision d = o.decision;
      if (d.allowed() && !d.wouldRefuse() && d.source() != Decision.Source.FAILURE_OPEN) {
        if (o.reservation != null) {
          // under the stripes: still the latest write, so given back (without them, if another
          // request wrote since, nothing is given back: under-admission)
          o.reservation.cancel();
          o.reservation = null;
          o.waitNanos = 0;
        } else if (o.holdsPermits()) {
          giveBack(o, held);
        }
        o.decision = null;
      }
    }
    return false;
  }

  /**
   * Whether a decision has a bucket behind it (the store's, or the local fallback's); a
   * fail-open admission or a fail-closed refusal has none, so no header may describe it.
   */
  static boolean counted(Decision d) {
    return d.source() == Decision.Source.STORE || d.source() == Decision.Source.DENY_CACHE
        || d.source() == Decision.Source.LEASE || d.source() == Decision.Source.LOCAL_FALLBACK;
  }

  /** {@link #binding} among the enforced rules. */
  private static final int ENFORCED = 0;
  /** {@link #binding} among the shadow rules. */
  private static final int SHADOW = 1;
  /** {@link #binding} among the rules the headers describe ({@link Rule#headers()}). */
  private static final int DESCRIBED = 2;

  /**
   * The binding decision among the rules {@code among} selects, or null if none has a count
   * behind it: when admitted, the one with the fewest permits left (ties: the longest reset);
   * when refused, the refusal with the longest wait (never = longest).
   */
  private static Outcome binding(List<Outcome> outcomes, boolean admitted, int among) {
    Outcome best = null;
    for (Outcome o : outcomes) {
      Decision d = o.decision;
      if (d == null || d.allowed() != admitted || !counted(d)) {
        continue;
      }
      if (among == DESCRIBED ? !o.rule.headers() : o.rule.shadow() != (among == SHADOW)) {
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

  /**
   * Whole permits {@code rule} holds for {@code request}'s key, taking none: for status pages
   * and health endpoints that show a caller its allowance.
   *
   * @param request the request whose key is resolved
   * @param rule the rule's name
   * @return the permits, or empty if the request has no key for that rule
   * @throws IllegalArgumentException if there is no such rule
   */
  public OptionalLong availablePermits(RequestView request, String rule) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(rule, "rule");
    for (int i = 0; i < rules.length; i++) {
      if (rules[i].name().equals(rule)) {
        KeyResolver resolver = rules[i].key() != null ? rules[i].key() : defaultKey;
        Optional<String> material = Resolvers.present(resolver.resolve(request));
        if (material.isEmpty()) {
          return OptionalLong.empty();
        }
        Outcome o = new Outcome(rules[i], limiters[i], i, Keys.hash(material.get()),
            material.get(), 1);
        String previous = enter(o);
        try {
          return OptionalLong.of(o.limiter.availablePermits(o.key));
        } finally {
          leave(previous);
        }
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
   * The limiter behind a rule: for status pages and metrics ({@link RateLimiter#size()},
   * {@link RateLimiter#failureMode()}). A plan rule's limiter assigns plans by the key material
   * this object hands it, so deciding on it directly fails; read it, do not decide on it.
   *
   * @param rule the rule's name
   * @return its limiter
   * @throws IllegalArgumentException if there is no such rule
   */
  public RateLimiter<String> limiter(String rule) {
    Objects.requireNonNull(rule, "rule");
    for (int i = 0; i < rules.length; i++) {
      if (rules[i].name().equals(rule)) {
        return limiters[i];
      }
    }
    throw new IllegalArgumentException("no rule is named \"" + rule + "\"");
  }

  /**
   * The header groups written.
   *
   * @return the groups
   */
  public Set<HeaderGroup> headerGroups() {
    return headers;
  }

  /** Closes the limiters this object created (not those passed in); idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeOwned();
    }
  }

  private void closeOwned() {
    RuntimeException first = null;
    for (int i = 0; i < limiters.length; i++) {
      if (owned[i] && limiters[i] != null) {
        try {
          limiters[i].close();
        } catch (RuntimeException e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public String toString() {
    return "HttpLimiter" + rules();
  }

  /** Builds an {@link HttpLimiter}. Not thread-safe. */
  public static final class Builder {

    private final List<Rule> rules = new ArrayList<>();
    private final List<PathPattern> exempt = new ArrayList<>();
    private KeyResolver key = KeyResolver.clientIp();
    private Set<HeaderGroup> headers = EnumSet.allOf(HeaderGroup.class);
    private MissingKey missingKey = MissingKey.DENY;
    private Ticker ticker = Ticker.system();
    private RateStoreFactory store = InMemoryStore.factory();
    private FailureMode failureMode = FailureMode.LOCAL;
    private RateLimitListener listener;
    private Duration lockWait = Duration.ofMillis(50);

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
     * The ticker for limiters this object creates, and for timing refunds (default
     * {@link Ticker#system()}); tests pass a {@link dev.sluice.ManualTicker}. Rules built from a
     * limiter with a ticker of its own need one that runs no faster than this one.
     *
     * @param t the ticker
     * @return this builder
     */
    public Builder ticker(Ticker t) {
      this.ticker = Objects.requireNonNull(t, "ticker");
      return this;
    }

    /**
     * Where limiters this object creates keep their buckets (default in memory).
     *
     * @param factory the store factory
     * @return this builder
     */
    public Builder store(RateStoreFactory factory) {
      this.store = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * What the limiters this object creates answer when their store cannot decide (default
     * {@link FailureMode#LOCAL}, as for {@link RateLimiter.Builder#failureMode}).
     *
     * @param mode the failure mode
     * @return this builder
     */
    public Builder failureMode(FailureMode mode) {
      this.failureMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The listener of the limiters this object creates (default none), for metrics
     * ({@code dev.sluice.micrometer.SluiceMetrics}); each limiter is named after its rule.
     *
     * @param l the listener
     * @return this builder
     */
    public Builder listener(RateLimitListener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /**
     * The longest a request waits, in all, for the striped locks that other requests of this
     * object hold for the same (rule, key) while they decide (default 50 ms, the Redis store's
     * default deadline; from 0 to 60 s). The locks matter only with two or more rules, and are
     * held across the store calls of a request, so with a slow store a request behind them
     * would wait for other requests' round trips: past this wait it decides without the locks,
     * and may under-admit, never over-admit (see the class comment). Real time, not the
     * ticker's. Choose at most the store's deadline, so that no request waits on another's
     * store call longer than on its own; 0 never waits for a busy lock.
     *
     * @param wait the longest wait
     * @return this builder
     * @throws IllegalArgumentException if {@code wait} is negative or above 60 s
     */
    public Builder lockWait(Duration wait) {
      Objects.requireNonNull(wait, "wait");
      if (wait.isNegative() || wait.compareTo(MAX_LOCK_WAIT) > 0) {
        throw new IllegalArgumentException(
            "lockWait (" + wait + ") must be from 0 to " + MAX_LOCK_WAIT);
      }
      this.lockWait = wait;
      return this;
    }

    /**
     * Builds it, creating a limiter for every rule built from a limit or policy. If creating one
     * fails, those already created are closed before the failure propagates.
     *
     * @return the HTTP limiter
     * @throws IllegalStateException if there is no rule, two rules share a name, or two rules
     *     share one limiter instance
     */
    public HttpLimiter build() {
      if (rules.isEmpty()) {
        throw new IllegalStateException("an HTTP limiter needs at least one rule (or limit)");
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
      return new HttpLimiter(this);
    }
  }
}
