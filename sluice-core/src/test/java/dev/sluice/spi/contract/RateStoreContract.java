package dev.sluice.spi.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.TokenBucket;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link RateStore} must have, as one abstract suite: extend it once per store
 * and the store runs every case (as Bucket4j's backends share one suite). It ships in
 * sluice-core's test-jar ({@code <type>test-jar</type>}, scope test). Its package is one that no
 * module owns, so that a modular store module's tests can use it from the class path
 * ({@code dev.sluice.spi} belongs to module {@code dev.sluice.core}: a class of that package on
 * the class path would be invisible).
 *
 * <h2>How to extend</h2>
 * <pre>{@code
 * class RedisStoreContractTest extends RateStoreContract {
 *   protected RateStoreFactory factory() { return RedisStore.factory(uri).clocks(TestClocks.tickers()); }
 *   protected Duration resolution() { return Duration.ofNanos(1000); } // the script counts in µs
 * }
 * }</pre>
 * <ul>
 *   <li>{@link #factory()} (required) makes the stores; each case creates its stores with
 *       {@code factory().create(name, policy, ticker())}, a fresh name per store, and keys
 *       unique to the run (a random prefix), so a shared server needs no cleaning between cases.
 *       Every store a case creates is closed after it.</li>
 *   <li>Time: each case's stores get {@link #ticker()}, a {@link ManualTicker} starting at
 *       {@link #startNanos()} (by default near {@code Long.MAX_VALUE}, so it wraps), and time moves
 *       only through {@link #advance(Duration)}, which moves that ticker. A store that takes its
 *       clock from the ticker it is given needs nothing more. A store that keeps its own clock
 *       overrides {@link #advance} to wait (with a bounded loop, not a sleep) until its clock has
 *       moved at least that far, and returns false from {@link #clockControlled()}: the cases that
 *       need time to stand still or move exactly are then skipped (see each case), and
 *       {@link #tolerance()} must cover the time that passes on its own during one case.</li>
 *   <li>{@link #resolution()}: the store's clock resolution (1 ns by default). Reported waits may
 *       differ from the exact ones by less than {@code resolution() + tolerance()}. Limits here have
 *       whole-millisecond intervals and time moves in whole milliseconds, so a store counting in
 *       microseconds admits exactly what the exact bucket admits.</li>
 * </ul>
 *
 * <p>Cases that need {@link #clockControlled()}: {@code decide_justBeforeTheReportedWait_stillRefuses}
 * and {@code decide_randomSchedule_matchesTheExactBucket}. Every other case works with a real
 * clock, given slow enough limits (refills of at most one permit per second in the cases that do
 * not advance time).
 */
public abstract class RateStoreContract {

  private static final Duration SECOND = Duration.ofSeconds(1);
  private static final Duration DAY = Duration.ofDays(1);
  private static final AtomicLong STORES = new AtomicLong();

  private final List<RateStore<String>> stores = new ArrayList<>();
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private ManualTicker ticker;

  /** For subclasses. */
  protected RateStoreContract() {}

  /**
   * The store under test.
   *
   * @return a factory of stores of the kind under test
   */
  protected abstract RateStoreFactory factory();

  /**
   * Moves the store's clock forward by {@code d}. By default moves {@link #ticker()}; a store with
   * its own clock waits (bounded) until its clock has moved at least {@code d}.
   *
   * @param d how far, positive
   */
  protected void advance(Duration d) {
    ticker().advance(d);
  }

  /**
   * Whether the store's time moves only through {@link #advance} and exactly by what it is told.
   *
   * @return true by default
   */
  protected boolean clockControlled() {
    return true;
  }

  /**
   * The store clock's resolution.
   *
   * @return 1 ns by default
   */
  protected Duration resolution() {
    return Duration.ofNanos(1);
  }

  /**
   * How far the store's clock may move on its own during one case (zero when
   * {@link #clockControlled()}).
   *
   * @return zero by default
   */
  protected Duration tolerance() {
    return Duration.ZERO;
  }

  /**
   * The ticker's first reading in each case.
   *
   * @return by default 10 s before {@code Long.MAX_VALUE}, so the ticker wraps in most cases
   */
  protected long startNanos() {
    return Long.MAX_VALUE - 10 * SECOND.toNanos();
  }

  /**
   * The ticker handed to every store a case creates.
   *
   * @return the case's ticker
   */
  protected final ManualTicker ticker() {
    return ticker;
  }

  @BeforeEach
  void newTicker() {
    ticker = new ManualTicker(startNanos());
  }

  @AfterEach
  void closeStores() {
    for (RateStore<String> store : stores) {
      store.close();
    }
    stores.clear();
  }

  /**
   * A new store for {@code policy}, closed after the case.
   *
   * @param policy the policy
   * @return the store
   */
  protected final BoundStore store(Policy policy) {
    RateStore<String> store =
        factory().create("contract-" + STORES.incrementAndGet(), policy, ticker());
    assertThat(store).as("the factory's store").isNotNull();
    stores.add(store);
    return new BoundStore(store, policy);
  }

  /**
   * A key unique to this run.
   *
   * @param name a short name
   * @return the key
   */
  protected final String key(String name) {
    return "c-" + run + "-" + name;
  }

  private long slackNanos() {
    return resolution().toNanos() + tolerance().toNanos();
  }

  private void assertWait(long actualNanos, Duration expected, String what) {
    assertThat(actualNanos).as(what).isCloseTo(expected.toNanos(), within(slackNanos()));
  }

  private static void assertSane(Decision d, Policy policy, long permits) {
    long[] capacities = policy.limits().stream().mapToLong(Limit::capacity).toArray();
    assertThat(capacities).as("limit of " + d).contains(d.limit());
    assertThat(d.remaining()).as("remaining of " + d).isBetween(0L, d.limit());
    // the store decided: an admission is the bucket function's; a refusal may come from the
    // store's cache of refusals (the Redis deny cache), which says so
    assertThat(d.source()).as(d.toString()).isIn(d.allowed() ? new Decision.Source[] {
        Decision.Source.STORE} : new Decision.Source[] {Decision.Source.STORE,
        Decision.Source.DENY_CACHE});
    if (d.allowed()) {
      assertThat(d.retryAfterNanos()).as(d.toString()).isZero();
      assertThat(d.retryAfter()).contains(Duration.ZERO);
    } else if (permits > policy.maxPermitsPerRequest()) {
      assertThat(d.canEverSucceed()).as(d.toString()).isFalse();
      assertThat(d.retryAfter()).as(d.toString()).isEmpty();
    } else {
      assertThat(d.canEverSucceed()).as(d.toString()).isTrue();
      assertThat(d.retryAfterNanos()).as(d.toString()).isPositive();
    }
    long longestFill = policy.limits().stream()
        .mapToLong(l -> l.fillTime().toNanos()).max().orElseThrow();
    assertThat(d.resetAfterNanos()).as(d.toString()).isBetween(0L, longestFill + 1_000_000L);
  }

  // ---- the cases ----

  @Test
  void decide_fullBucket_admitsTheCapacityThenRefuses() {
    Policy policy = Policy.of(Limit.of(5, Duration.ofSeconds(5)));
    BoundStore store = store(policy);
    String k = key("seq");
    for (int i = 1; i <= 5; i++) {
      Decision d = store.decide(k, 1);
      assertThat(d.allowed()).as("request " + i).isTrue();
      assertThat(d.remaining()).as("request " + i).isEqualTo(5 - i);
      assertThat(d.limit()).isEqualTo(5);
      assertWait(d.resetAfterNanos(), SECOND.multipliedBy(i), "resetAfter after " + i);
      assertSane(d, policy, 1);
    }
    Decision d = store.decide(k, 1);
    assertThat(d.allowed()).isFalse();
    assertThat(d.remaining()).isZero();
    assertThat(d.limit()).isEqualTo(5);
    assertWait(d.retryAfterNanos(), SECOND, "retryAfter");
    assertWait(d.resetAfterNanos(), Duration.ofSeconds(5), "resetAfter");
    assertSane(d, policy, 1);
    assertThat(store.tryAcquire(k, 1)).isFalse();
  }

  @Test
  void tryAcquire_fullBucket_admitsTheCapacityThenRefuses() {
    BoundStore store = store(Policy.of(Limit.of(7, Duration.ofDays(7))));
    String k = key("bool");
    for (int i = 0; i < 7; i++) {
      assertThat(store.tryAcquire(k, 1)).as("request " + i).isTrue();
    }
    assertThat(store.tryAcquire(k, 1)).isFalse();
    assertThat(store.availablePermits(k)).isZero();
  }

  @Test
  void decide_afterTheReportedWait_admits() {
    Policy policy = Policy.of(Limit.perSecond(10).withCapacity(3));
    BoundStore store = store(policy);
    String k = key("wait");
    assertThat(store.decide(k, 3).allowed()).isTrue();
    Decision d = store.decide(k, 2);
    assertThat(d.allowed()).isFalse();
    assertWait(d.retryAfterNanos(), Duration.ofMillis(200), "retryAfter for 2");
    advance(d.retryAfter().orElseThrow());
    Decision later = store.decide(k, 2);
    assertThat(later.allowed()).as(later.toString()).isTrue();
    assertSane(later, policy, 2);
  }

  /** Needs {@link #clockControlled()}. */
  @Test
  void decide_justBeforeTheReportedWait_stillRefuses() {
    assumeTrue(clockControlled(), "needs a clock that stands still");
    BoundStore store = store(Policy.of(Limit.perSecond(10).withCapacity(3)));
    String k = key("early");
    assertThat(store.decide(k, 3).allowed()).isTrue();
    Decision d = store.decide(k, 2);
    advance(d.retryAfter().orElseThrow().minus(resolution()));
    assertThat(store.decide(k, 2).allowed()).isFalse();
    assertThat(store.availablePermits(k)).isEqualTo(1);
    advance(resolution());
    assertThat(store.decide(k, 2).allowed()).isTrue();
  }

  @Test
  void decide_refusal_takesNothing() {
    Policy policy = Policy.of(Limit.of(5, Duration.ofSeconds(5)));
    BoundStore store = store(policy);
    String k = key("refusal");
    assertThat(store.decide(k, 3).allowed()).isTrue();
    Decision first = store.decide(k, 3);
    assertThat(first.allowed()).isFalse();
    assertThat(first.remaining()).isEqualTo(2);
    // refused again and again: nothing is taken, the answer does not change
    for (int i = 0; i < 5; i++) {
      assertThat(store.tryAcquire(k, 3)).isFalse();
      Decision again = store.decide(k, 3);
      assertThat(again.allowed()).isFalse();
      assertThat(again.remaining()).isEqualTo(2);
      assertWait(again.retryAfterNanos(), SECOND, "retryAfter");
      assertWait(again.resetAfterNanos(), Duration.ofSeconds(3), "resetAfter");
      assertThat(store.decide(k, 6).canEverSucceed()).isFalse();
    }
    assertThat(store.availablePermits(k)).isEqualTo(2);
    Decision d = store.decide(k, 2);
    assertThat(d.allowed()).isTrue();
    assertThat(d.remaining()).isZero();
  }

  /**
   * Two limits, all-or-nothing: A = 2 per 2 s, B = 3 per 3 days. A request that A refuses takes
   * nothing from B (B's time to full would grow by a day per permit), and one that B refuses
   * takes nothing from A (A's last permit would be gone).
   */
  @Test
  void decide_policyRefusedByOneLimit_takesNothingFromTheOther() {
    Policy policy = Policy.of(Limit.of(2, Duration.ofSeconds(2)), Limit.of(3, Duration.ofDays(3)));
    BoundStore store = store(policy);
    String k = key("policy");
    Decision d = store.decide(k, 2);
    assertThat(d.allowed()).isTrue();
    assertThat(d.remaining()).isZero();
    assertThat(d.limit()).isEqualTo(2);
    assertWait(d.resetAfterNanos(), Duration.ofDays(2), "resetAfter: B is two permits down");
    for (int i = 0; i < 3; i++) {
      Decision refused = store.decide(k, 1);
      assertThat(refused.allowed()).as("refused by A").isFalse();
      assertWait(refused.retryAfterNanos(), SECOND, "A's next permit");
      assertWait(refused.resetAfterNanos(), Duration.ofDays(2), "B not charged");
      assertSane(refused, policy, 1);
    }
    advance(Duration.ofSeconds(2));
    // A is full (2); B holds 1 and a sliver
    Decision refusedByB = store.decide(k, 2);
    assertThat(refusedByB.allowed()).as("refused by B").isFalse();
    assertThat(refusedByB.remaining()).isEqualTo(1);
    assertThat(refusedByB.limit()).isEqualTo(3);
    assertWait(refusedByB.retryAfterNanos(), DAY.minusSeconds(2), "B's next permit");
    Decision d2 = store.decide(k, 1);
    assertThat(d2.allowed()).as("A still holds 2: the refusal took nothing").isTrue();
    assertThat(d2.remaining()).isZero();
    assertThat(d2.limit()).isEqualTo(3);
    assertThat(store.decide(k, 1).allowed()).as("B is empty").isFalse();
  }

  @Test
  void decide_keys_areIndependent() {
    Policy policy = Policy.of(Limit.of(4, Duration.ofDays(4)));
    BoundStore store = store(policy);
    assertThat(store.decide(key("a"), 4).allowed()).isTrue();
    assertThat(store.decide(key("a"), 1).allowed()).isFalse();
    assertThat(store.availablePermits(key("b"))).isEqualTo(4);
    assertThat(store.decide(key("b"), 1).remaining()).isEqualTo(3);
    assertThat(store.decide(key("c"), 4).allowed()).isTrue();
    assertThat(store.availablePermits(key("a"))).isZero();
    assertThat(store.availablePermits(key("b"))).isEqualTo(3);
    assertThat(store.availablePermits(key("c"))).isZero();
    long size = store.size();
    assertThat(size == -1 || size >= 3).as("size() " + size).isTrue();
  }

  @Test
  void decide_moreThanTheCapacity_neverSucceedsAndTakesNothing() {
    Policy policy = Policy.of(Limit.of(5, Duration.ofDays(5)), Limit.of(8, Duration.ofDays(8)));
    BoundStore store = store(policy);
    String k = key("over");
    assertThat(store.decide(k, 1).allowed()).isTrue();
    for (long permits : new long[] {6, 8, 9, Long.MAX_VALUE}) {
      Decision d = store.decide(k, permits);
      assertThat(d.allowed()).as(permits + " " + d).isFalse();
      assertThat(d.canEverSucceed()).as(permits + " " + d).isFalse();
      assertThat(d.retryAfter()).as(permits + " " + d).isEmpty();
      assertThat(d.retryAfterNanos()).isEqualTo(-1);
      assertThat(d.remaining()).isEqualTo(4);
      assertThat(store.tryAcquire(k, permits)).isFalse();
    }
    assertThat(store.decide(k, 4).allowed()).isTrue();
  }

  @Test
  void availablePermits_newAndUsedKeys_countWithoutTaking() {
    Policy policy = Policy.of(Limit.of(6, Duration.ofDays(6)).withInitialPermits(4));
    BoundStore store = store(policy);
    String k = key("avail");
    for (int i = 0; i < 3; i++) {
      assertThat(store.availablePermits(k)).isEqualTo(4);
    }
    assertThat(store.decide(k, 3).remaining()).isEqualTo(1);
    assertThat(store.availablePermits(k)).isEqualTo(1);
    assertThat(store.availablePermits(k)).isEqualTo(1);
    assertThat(store.decide(k, 2).allowed()).isFalse();
  }

  @Test
  void decideAsync_sameHistory_equalsDecide() {
    Policy policy = Policy.of(Limit.perSecond(4).withCapacity(6), Limit.of(9, Duration.ofDays(9)));
    BoundStore store = store(policy);
    Random rnd = new Random(11);
    for (int i = 0; i < 40; i++) {
      long permits = 1 + rnd.nextInt(7);
      Decision sync = store.decide(key("sync"), permits);
      Decision async = store.decideAsync(key("async"), permits).toCompletableFuture().join();
      assertThat(async.allowed()).as("step " + i).isEqualTo(sync.allowed());
      assertThat(async.remaining()).as("step " + i).isEqualTo(sync.remaining());
      assertThat(async.limit()).as("step " + i).isEqualTo(sync.limit());
      assertThat(async.canEverSucceed()).as("step " + i).isEqualTo(sync.canEverSucceed());
      assertThat(async.retryAfterNanos()).as("step " + i)
          .isCloseTo(sync.retryAfterNanos(), within(slackNanos()));
      assertThat(async.resetAfterNanos()).as("step " + i)
          .isCloseTo(sync.resetAfterNanos(), within(slackNanos()));
      if (rnd.nextInt(4) == 0) {
        advance(Duration.ofMillis(250));
      }
    }
  }

  /**
   * Decisions equal those of the exact in-memory bucket on the same timeline (waits within the
   * store's resolution). Needs {@link #clockControlled()}.
   */
  @Test
  void decide_randomSchedule_matchesTheExactBucket() {
    assumeTrue(clockControlled(), "needs a clock that moves exactly as told");
    for (Policy policy : List.of(Policy.of(Limit.perSecond(10).withCapacity(20)),
        Policy.of(Limit.of(7, Duration.ofMillis(700))),
        Policy.of(Limit.perSecond(5), Limit.perMinute(40)))) {
      BoundStore store = store(policy);
      String k = key("exact-" + policy.hashCode());
      // the key's bucket and the exact one are both made by a first request at this reading
      ManualTicker exactTime = new ManualTicker(ticker().read());
      TokenBucket exact = TokenBucket.of(policy, exactTime);
      assertThat(store.decide(k, 1).remaining()).isEqualTo(exact.decide(1).remaining());
      Random rnd = new Random(policy.hashCode());
      for (int i = 0; i < 300; i++) {
        Duration step = Duration.ofMillis(rnd.nextInt(4) == 0 ? rnd.nextInt(3000) : rnd.nextInt(120));
        advance(step);
        exactTime.advance(step);
        long permits = 1 + rnd.nextInt((int) policy.maxPermitsPerRequest() + 1);
        String where = policy + " step " + i + " permits " + permits;
        if (rnd.nextInt(3) == 0) {
          assertThat(store.tryAcquire(k, permits)).as(where).isEqualTo(exact.tryAcquire(permits));
          continue;
        }
        Decision d = store.decide(k, permits);
        Decision e = exact.decide(permits);
        assertThat(d.allowed()).as(where + " " + d + " vs " + e).isEqualTo(e.allowed());
        assertThat(d.remaining()).as(where + " " + d + " vs " + e).isEqualTo(e.remaining());
        assertThat(d.limit()).as(where + " " + d + " vs " + e).isEqualTo(e.limit());
        assertThat(d.canEverSucceed()).as(where).isEqualTo(e.canEverSucceed());
        assertThat(d.retryAfterNanos()).as(where + " " + d + " vs " + e)
            .isCloseTo(e.retryAfterNanos(), within(slackNanos()));
        assertThat(d.resetAfterNanos()).as(where + " " + d + " vs " + e)
            .isCloseTo(e.resetAfterNanos(), within(slackNanos()));
        assertSane(d, policy, permits);
      }
    }
  }

  @Test
  void tryAcquire_concurrentOnOneKey_admitsExactlyTheCapacity() throws InterruptedException {
    BoundStore store = store(Policy.of(Limit.of(300, Duration.ofDays(300))));
    String k = key("race");
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicLong admitted = new AtomicLong();
    AtomicReference<Throwable> error = new AtomicReference<>();
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread thread = new Thread(() -> {
        try {
          start.await(30, TimeUnit.SECONDS);
          for (int i = 0; i < 100; i++) {
            boolean ok = i % 2 == id % 2
                ? store.tryAcquire(k, 1)
                : store.decideAsync(k, 1).toCompletableFuture().join().allowed();
            if (ok) {
              admitted.incrementAndGet();
            }
          }
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        }
      });
      all.add(thread);
      thread.start();
    }
    for (Thread thread : all) {
      thread.join(60_000);
      assertThat(thread.isAlive()).isFalse();
    }
    assertThat(error.get()).isNull();
    assertThat(admitted.get()).isEqualTo(300);
    assertThat(store.availablePermits(k)).isZero();
  }

  // ---- refunds: emptyAt' = max(emptyAt - max(0, n*T - held), now - C*T) per limit ----

  /**
   * A take given back leaves the bucket as if it had never happened: two keys with the same
   * history, one of which also takes 3 and gives them back, decide alike from then on.
   */
  @Test
  void refund_afterTake_decidesAsIfNeverTaken() {
    Policy policy = Policy.of(Limit.of(5, Duration.ofSeconds(5)));
    BoundStore store = store(policy);
    String k = key("refund");
    String same = key("refund-same");
    assertThat(store.decide(k, 2).allowed()).isTrue();
    assertThat(store.decide(same, 2).allowed()).isTrue();
    advance(Duration.ofMillis(1_500));
    // both hold 4.5; k takes 3 and gives them back
    assertThat(store.decide(k, 3).allowed()).isTrue();
    store.refund(k, 3, 0);
    assertThat(store.availablePermits(k)).isEqualTo(4);
    for (long permits : new long[] {4, 1}) {
      assertSameDecision(store.decide(k, permits), store.decide(same, permits), permits + " after");
    }
    // 0.5 left: the refusal of 1 waits half a second, on both
    Decision refused = store.decide(k, 1);
    assertThat(refused.allowed()).isFalse();
    assertWait(refused.retryAfterNanos(), Duration.ofMillis(500), "retryAfter after the refund");
    advance(Duration.ofMillis(500));
    assertSameDecision(store.decide(k, 1), store.decide(same, 1), "half a second later");
    assertThat(store.availablePermits(k)).isEqualTo(store.availablePermits(same)).isZero();
  }

  /**
   * The review's interleaving: a bucket of 10 at 1/s, full; X takes 1 at 0, Y takes 1 at 0.5 s,
   * X is given back at 0.5 s, held for 0.5 s. Given back whole, the refund would return the half
   * permit a full bucket would have thrown away and let 11 through in [0.5 s, 1 s]; with the time
   * held subtracted the key decides exactly as one that X never touched.
   */
  @Test
  void refund_afterOtherTakes_neverReturnsRefillAFullBucketWouldHaveLost() {
    Policy policy = Policy.of(Limit.of(10, Duration.ofSeconds(10)));
    BoundStore store = store(policy);
    String k = key("refund-held");
    String never = key("refund-held-never");
    assertThat(store.availablePermits(k)).isEqualTo(10);
    assertThat(store.availablePermits(never)).isEqualTo(10);
    assertThat(store.decide(k, 1).allowed()).isTrue(); // X
    advance(Duration.ofMillis(500));
    assertThat(store.decide(k, 1).remaining()).as("Y, with X out").isEqualTo(8);
    assertThat(store.decide(never, 1).remaining()).as("Y").isEqualTo(9);
    store.refund(k, 1, Duration.ofMillis(500).toNanos()); // X given back
    advance(Duration.ofMillis(500));
    assertThat(store.availablePermits(k)).isEqualTo(store.availablePermits(never)).isEqualTo(9);
    assertSameDecision(store.decide(k, 10), store.decide(never, 10), "a full bucket's worth");
    assertSameDecision(store.decide(k, 9), store.decide(never, 9), "what is there");
  }

  /** A refusal is no longer true once permits came back: the next request sees them. */
  @Test
  void refund_afterARefusal_theNextRequestSeesThePermits() {
    Policy policy = Policy.of(Limit.of(3, Duration.ofDays(3)));
    BoundStore store = store(policy);
    String k = key("refund-refused");
    assertThat(store.decide(k, 3).allowed()).isTrue();
    for (int i = 0; i < 3; i++) {
      assertThat(store.decide(k, 2).allowed()).as("refused " + i).isFalse();
    }
    store.refund(k, 2, 0);
    Decision d = store.decide(k, 2);
    assertThat(d.allowed()).as(d.toString()).isTrue();
    assertThat(d.remaining()).isZero();
    assertSane(d, policy, 2);
    assertThat(store.decide(k, 1).allowed()).isFalse();
  }

  /** Giving back more than was taken fills the bucket and no more. */
  @Test
  void refund_moreThanTaken_cappedAtFull() {
    Policy policy = Policy.of(Limit.of(4, Duration.ofSeconds(4)));
    BoundStore store = store(policy);
    String k = key("refund-cap");
    String fresh = key("refund-cap-fresh");
    assertThat(store.decide(k, 1).allowed()).isTrue();
    store.refund(k, 4, 0);
    assertThat(store.availablePermits(k)).isEqualTo(4);
    assertSameDecision(store.decide(k, 4), store.decide(fresh, 4), "the whole bucket, once");
    assertThat(store.decide(k, 1).allowed()).isFalse();
    // refilled to full, then refunded again: still full
    advance(Duration.ofSeconds(4));
    store.refund(k, 2, Duration.ofSeconds(4).toNanos()); // held for 4 s: nothing to give back
    assertThat(store.availablePermits(k)).isEqualTo(4);
    assertThat(store.decide(k, 4).allowed()).isTrue();
    assertThat(store.decide(k, 1).allowed()).isFalse();
  }

  /**
   * A refund to a key the store holds nothing for changes nothing: the key stays new (with a
   * limit's initial permits), never gains the refund.
   */
  @Test
  void refund_freshKey_isANoOp() {
    for (Policy policy : List.of(Policy.of(Limit.of(5, Duration.ofDays(5))),
        Policy.of(Limit.of(6, Duration.ofDays(6)).withInitialPermits(2)))) {
      BoundStore store = store(policy);
      String k = key("refund-fresh-" + policy.hashCode());
      String untouched = key("refund-untouched-" + policy.hashCode());
      long initial = policy.limits().get(0).initialPermits();
      store.refund(k, 3, 0);
      assertThat(store.availablePermits(k)).as(policy.toString()).isEqualTo(initial);
      assertSameDecision(store.decide(k, initial), store.decide(untouched, initial), policy.toString());
      assertThat(store.decide(k, 1).allowed()).as(policy.toString()).isFalse();
    }
  }

  /**
   * Two limits, A = 2 per 2 s and B = 3 per 3 days: a refund gives each limit back what it lost,
   * each capped at its own capacity.
   */
  @Test
  void refund_severalLimits_restoresEach() {
    Policy policy = Policy.of(Limit.of(2, Duration.ofSeconds(2)), Limit.of(3, Duration.ofDays(3)));
    BoundStore store = store(policy);
    String k = key("refund-limits");
    String once = key("refund-limits-once");
    String fresh = key("refund-limits-fresh");
    assertThat(store.decide(k, 2).allowed()).isTrue();
    // A 0, B 1; back 1 each: A 1, B 2, as if only 1 had been taken
    store.refund(k, 1, 0);
    assertThat(store.decide(once, 1).allowed()).isTrue();
    Decision d = store.decide(k, 2);
    assertSameDecision(d, store.decide(once, 2), "refused by A");
    assertThat(d.allowed()).isFalse();
    assertThat(d.remaining()).isEqualTo(1);
    assertThat(d.limit()).isEqualTo(2);
    assertWait(d.retryAfterNanos(), SECOND, "A's next permit");
    assertWait(d.resetAfterNanos(), DAY, "B one permit short");
    // back 2 each: A 1 + 2 and B 2 + 2, each capped at its capacity (2, 3): as if never taken
    store.refund(k, 2, 0);
    assertThat(store.availablePermits(k)).isEqualTo(2);
    Decision full = store.decide(k, 2);
    assertSameDecision(full, store.decide(fresh, 2), "full again");
    assertThat(full.allowed()).isTrue();
    assertWait(full.resetAfterNanos(), Duration.ofDays(2), "B two permits short, from full");
    assertThat(store.decide(k, 1).allowed()).isFalse();
  }

  private void assertSameDecision(Decision actual, Decision expected, String what) {
    String both = what + ": " + actual + " vs " + expected;
    assertThat(actual.allowed()).as(both).isEqualTo(expected.allowed());
    assertThat(actual.remaining()).as(both).isEqualTo(expected.remaining());
    assertThat(actual.limit()).as(both).isEqualTo(expected.limit());
    assertThat(actual.canEverSucceed()).as(both).isEqualTo(expected.canEverSucceed());
    assertThat(actual.retryAfterNanos()).as(both)
        .isCloseTo(expected.retryAfterNanos(), within(slackNanos()));
    assertThat(actual.resetAfterNanos()).as(both)
        .isCloseTo(expected.resetAfterNanos(), within(slackNanos()));
  }

  @Test
  void close_twice_doesNotThrow() {
    BoundStore store = store(Policy.of(Limit.perSecond(1)));
    store.tryAcquire(key("close"), 1);
    store.close();
    assertThatCode(store::close).doesNotThrowAnyException();
  }
}
