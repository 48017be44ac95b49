package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * More than one policy on one limiter name in Redis: plans, live changes, two versions of an
 * application at once (a rolling deploy). Every limit here refills one permit an hour, so in a
 * test's few seconds a bucket admits exactly its capacity, and a count above it is an
 * over-admission.
 */
class RedisPoliciesTest {

  private static RedisStore.Factory factory;

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(2));
  }

  @AfterAll
  static void close() {
    if (factory != null) {
      factory.close();
    }
  }

  private static Limit hourly(long capacity) {
    return Limit.of(1, Duration.ofHours(1)).withCapacity(capacity);
  }

  /**
   * The review's reproduction: a store of one limit writes keys, then a store of two limits
   * under the same name decides the same keys. It used to fail every call (the script read 16
   * bytes as 32), open the breaker and send every key, new ones too, to the failure mode; now
   * each store decides under its own policy, exactly, and the first keeps working after.
   */
  @Test
  void oneLimitThenTwo_sameName_bothDecideExactly() {
    String name = SharedRedis.uniqueName("review");
    Policy one = Policy.of(hourly(3));
    Policy two = Policy.of(hourly(5), Limit.of(1, Duration.ofDays(1)).withCapacity(4));
    try (RedisStore<String> old = factory.create(name, one, Ticker.system());
        RedisStore<String> next = factory.create(name, two, Ticker.system())) {
      for (int k = 0; k < 10; k++) {
        assertThat(old.decide("k" + k, 2).allowed()).isTrue();
      }
      for (int k = 0; k < 10; k++) {
        Decision d = next.decide("k" + k, 1);
        assertThat(d.source()).isEqualTo(Decision.Source.STORE);
        assertThat(d.allowed()).isTrue();
        // the binding limit of the two: the daily one, 4 - 1 left
        assertThat(d.remaining()).isEqualTo(3);
      }
      assertThat(next.decide("new-key", 4).allowed()).isTrue();
      assertThat(next.decide("new-key", 1).allowed()).isFalse();
      for (int k = 0; k < 10; k++) {
        Decision d = old.decide("k" + k, 1);
        assertThat(d.allowed()).isTrue();
        assertThat(d.remaining()).isZero();
        assertThat(old.decide("k" + k, 1).allowed()).isFalse();
      }
      assertThat(old.stats.errors.get() + next.stats.errors.get()).isZero();
      assertThat(old.stats.failures.get() + next.stats.failures.get()).isZero();
    }
  }

  /**
   * A rolling deploy: two nodes, each with its own factory (connection), run two versions of a
   * policy under one limiter name and hammer the same keys at once, 4 threads each. Both keep
   * working (every call decided by Redis) and neither admits more than its own bound on any key.
   */
  @Test
  void rollingDeploy_twoVersionsOnTheSameKeys_bothWorkEachWithinItsOwnBound() throws Exception {
    String name = SharedRedis.uniqueName("deploy");
    Policy v1 = Policy.of(hourly(20));
    Policy v2 = Policy.of(hourly(30), Limit.of(1, Duration.ofMinutes(10)).withCapacity(25));
    int keys = 8;
    int callsPerThread = 300;
    try (RedisStore.Factory nodeA = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(2));
        RedisStore.Factory nodeB = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(2));
        RedisStore<String> a = nodeA.create(name, v1, Ticker.system());
        RedisStore<String> b = nodeB.create(name, v2, Ticker.system())) {
      AtomicLong[] admittedA = counters(keys);
      AtomicLong[] admittedB = counters(keys);
      AtomicInteger failed = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        RedisStore<String> store = t % 2 == 0 ? a : b;
        AtomicLong[] admitted = t % 2 == 0 ? admittedA : admittedB;
        int seed = t;
        Thread thread = new Thread(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < callsPerThread; i++) {
            int k = (i + seed) % keys;
            try {
              if (store.decide("user-" + k, 1).allowed()) {
                admitted[k].incrementAndGet();
              }
            } catch (RuntimeException e) {
              failed.incrementAndGet();
            }
          }
        });
        thread.start();
        threads.add(thread);
      }
      start.countDown();
      for (Thread thread : threads) {
        thread.join();
      }
      assertThat(failed.get()).as("calls not decided by Redis").isZero();
      for (int k = 0; k < keys; k++) {
        // 4 threads x 300 calls over 8 keys = 150 calls per key per node: each drains its own
        // bucket to exactly its bound (1 an hour refills nothing in the test's time)
        assertThat(admittedA[k].get()).as("v1 on key %d", k).isEqualTo(20);
        assertThat(admittedB[k].get()).as("v2 on key %d", k).isEqualTo(25);
      }
    }
  }

  /** Plans through the limiter: each key gets its plan's bound, and an upgrade applies at once. */
  @Test
  void plans_eachKeyItsPlansBound_upgradeAppliesAtTheNextDecision() {
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(hourly(2)))
        .plan("pro", Policy.of(hourly(5)))
        .assign(key -> key.startsWith("pro-") ? "pro" : "free")
        .build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans)
        .name(SharedRedis.uniqueName("plans")).store(factory)
        .failureMode(FailureMode.CLOSED).build()) {
      assertThat(admitted(limiter, "free-1", 10)).isEqualTo(2);
      assertThat(admitted(limiter, "pro-1", 10)).isEqualTo(5);
      plans.update("free", Policy.of(hourly(4)));
      Decision d = limiter.decide("free-2", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.STORE);
      assertThat(d.remaining()).isEqualTo(3);
    }
  }

  /**
   * A refusal the deny cache holds under one policy is not answered under another: the first
   * call after the change goes to Redis, and its wait is the new policy's (10 ms), not the hour
   * the cached refusal would say.
   */
  @Test
  void refusalCachedUnderTheOldPolicy_notServedUnderTheNew() {
    Policy before = Policy.of(hourly(1));
    Policy after = Policy.of(Limit.of(1, Duration.ofMillis(10)).withCapacity(10));
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("stale"), before,
        Ticker.system())) {
      assertThat(store.decide("a", before, 1).allowed()).isTrue();
      assertThat(store.decide("a", before, 1).allowed()).isFalse();
      long hits = store.stats.cacheHits.get();
      long trips = store.stats.roundTrips.get();
      Decision cached = store.decide("a", before, 1);
      assertThat(cached.allowed()).isFalse();
      assertThat(cached.retryAfter().orElseThrow()).isGreaterThan(Duration.ofMinutes(59));
      assertThat(store.stats.cacheHits.get()).as("answered by the deny cache").isEqualTo(hits + 1);
      assertThat(store.stats.roundTrips.get()).isEqualTo(trips);
      Decision d = store.decide("a", after, 1);
      assertThat(store.stats.cacheHits.get()).isEqualTo(hits + 1);
      assertThat(store.stats.roundTrips.get()).as("asked Redis").isGreaterThan(trips);
      // the bucket kept its 0 permits (the carry-over rule) and refills at the new rate
      if (!d.allowed()) {
        assertThat(d.retryAfter().orElseThrow()).isLessThanOrEqualTo(Duration.ofMillis(10));
      }
      // and the old policy's refusal is not answered either once the state has moved
      long trips2 = store.stats.roundTrips.get();
      store.decide("a", before, 1);
      assertThat(store.stats.roundTrips.get()).isGreaterThan(trips2);
    }
  }

  /**
   * The carry-over rule in Redis: a bucket keeps the permits it had at the change, capped at the
   * new capacity, then refills at the new rate; it moves back the same way, exactly.
   */
  @Test
  void updatePolicy_keepsThePermitsCappedAtTheNewCapacity() {
    Policy five = Policy.of(hourly(5));
    Policy ten = Policy.of(hourly(10));
    Policy two = Policy.of(hourly(2));
    try (RateLimiter<String> limiter = RateLimiter.builder(five)
        .name(SharedRedis.uniqueName("carry")).store(factory)
        .failureMode(FailureMode.CLOSED).build()) {
      assertThat(limiter.decide("a", 3).remaining()).isEqualTo(2);
      assertThat(limiter.decide("b", 1).remaining()).isEqualTo(4);
      limiter.updatePolicy(ten);
      // a kept its 2 (not a new bucket's 10)
      Decision d = limiter.decide("a", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.STORE);
      assertThat(d.allowed()).isTrue();
      assertThat(d.remaining()).isEqualTo(1);
      assertThat(limiter.decide("a", 1).allowed()).isTrue();
      assertThat(limiter.decide("a", 1).allowed()).isFalse();
      limiter.updatePolicy(two);
      // b had 4: capped at 2
      assertThat(limiter.decide("b", 1).remaining()).isEqualTo(1);
      assertThat(limiter.decide("b", 1).allowed()).isTrue();
      assertThat(limiter.decide("b", 1).allowed()).isFalse();
      limiter.updatePolicy(five);
      // back: 0 stays 0 (the state moved with it, the old bucket is not resumed)
      assertThat(limiter.decide("a", 1).allowed()).isFalse();
      assertThat(limiter.decide("b", 1).allowed()).isFalse();
    }
  }

  /** A key moving to another plan keeps what it used. */
  @Test
  void plans_keyMovesPlan_keepsWhatItUsed() {
    java.util.Map<String, String> tier = new java.util.concurrent.ConcurrentHashMap<>();
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(hourly(3)))
        .plan("pro", Policy.of(hourly(10)))
        .assign(key -> tier.getOrDefault(key, "free"))
        .build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans)
        .name(SharedRedis.uniqueName("move")).store(factory)
        .failureMode(FailureMode.CLOSED).build()) {
      assertThat(admitted(limiter, "u", 2)).isEqualTo(2);
      tier.put("u", "pro");
      // 1 left of free's 3, carried into pro
      assertThat(admitted(limiter, "u", 5)).isEqualTo(1);
    }
  }

  /**
   * A policy replaced while 8 threads hammer one key: the bucket's permits are carried, never
   * granted twice. Capacities 20 then 30, one permit an hour: exactly 20 admitted in all.
   */
  @Test
  void updatePolicy_while8ThreadsHammerOneKey_exactlyTheCarriedPermits() throws Exception {
    try (RateLimiter<String> limiter = RateLimiter.builder(Policy.of(hourly(20)))
        .name(SharedRedis.uniqueName("hammer")).store(factory)
        .failureMode(FailureMode.CLOSED).build()) {
      AtomicLong admitted = new AtomicLong();
      AtomicInteger failed = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        Thread thread = new Thread(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < 20; i++) {
            Decision d = limiter.decide("hot", 1);
            if (d.source() != Decision.Source.STORE && d.source() != Decision.Source.DENY_CACHE) {
              failed.incrementAndGet();
            } else if (d.allowed()) {
              admitted.incrementAndGet();
            }
          }
        });
        thread.start();
        threads.add(thread);
      }
      start.countDown();
      // change while they run: after some admissions, not before
      long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (admitted.get() < 5 && System.nanoTime() < end) {
        Thread.onSpinWait();
      }
      limiter.updatePolicy(Policy.of(hourly(30)));
      for (Thread thread : threads) {
        thread.join();
      }
      assertThat(failed.get()).as("calls not decided by Redis").isZero();
      assertThat(admitted.get()).isEqualTo(20);
      assertThat(limiter.decide("hot", 1).allowed()).isFalse();
    }
  }

  /**
   * A node that does not know the policy a key's state moved to (another node changed it) does
   * not decide that key from a new bucket: its failure mode answers.
   */
  @Test
  void stateMovedToAPolicyThisNodeDoesNotKnow_failureMode() {
    String name = SharedRedis.uniqueName("unknown");
    Policy v1 = Policy.of(hourly(3));
    try (RedisStore.Factory other = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(2));
        RateLimiter<String> changed = RateLimiter.builder(v1).name(name).store(factory)
            .failureMode(FailureMode.CLOSED).build();
        RateLimiter<String> stale = RateLimiter.builder(v1).name(name).store(other)
            .failureMode(FailureMode.CLOSED).build()) {
      assertThat(stale.decide("k", 1).remaining()).isEqualTo(2);
      changed.updatePolicy(Policy.of(hourly(6)));
      assertThat(changed.decide("k", 1).remaining()).isEqualTo(1);
      Decision d = stale.decide("k", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
      assertThat(d.allowed()).isFalse();
      // keys that did not move are decided as before
      assertThat(stale.decide("other", 1).source()).isEqualTo(Decision.Source.STORE);
    }
  }

  /**
   * A stale call (it read the policy before a change, and reaches the store after calls under
   * the new one) is decided under the new policy: it never moves the key's state back, which
   * would restart a day limit the older policy lacks.
   */
  @Test
  void policyReplaced_staleCall_decidedUnderTheReplacement_dayLimitHolds() {
    Policy perHour = Policy.of(hourly(10));
    Policy withDay = Policy.of(hourly(10), Limit.perDay(3).withCapacity(3));
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("stale-call"),
        perHour, Ticker.system())) {
      assertThat(store.decide("k", perHour, 1).allowed()).isTrue();
      store.policyReplaced(perHour, withDay);
      for (int i = 0; i < 3; i++) {
        assertThat(store.decide("k", withDay, 1).allowed()).isTrue();
      }
      Decision stale = store.decide("k", perHour, 1);
      assertThat(stale.allowed()).isFalse();
      assertThat(stale.limit()).isEqualTo(3);
      assertThat(store.decide("k", withDay, 1).allowed()).isFalse();
      // back to the first policy: current again, the state moves to it by the rule (7 left)
      store.policyReplaced(withDay, perHour);
      Decision back = store.decide("k", perHour, 1);
      assertThat(back.allowed()).isTrue();
      assertThat(back.remaining()).isEqualTo(5);
    }
  }

  @Test
  void lane_morePoliciesThanTheBound_clearError() {
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("many"),
        Policy.of(hourly(1)), Ticker.system())) {
      for (int c = 2; c <= RedisStore.MAX_POLICIES; c++) {
        assertThat(store.decide("k" + c, Policy.of(hourly(c)), c).allowed()).isTrue();
      }
      Policy one = Policy.of(hourly(1000));
      assertThatThrownBy(() -> store.decide("a", one, 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("at most " + RedisStore.MAX_POLICIES)
          .hasMessageContaining(one.toString());
      // the policies it has still decide
      assertThat(store.decide("b", Policy.of(hourly(7)), 7).allowed()).isTrue();
    }
  }

  @Test
  void redisKey_samePolicyEqualKeys_otherPolicyOtherKeySameSlot() {
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("keys"),
        Policy.of(hourly(1)), Ticker.system())) {
      String a = new String(store.redisKey("a"), java.nio.charset.StandardCharsets.ISO_8859_1);
      String same = new String(store.redisKey("a", Policy.of(hourly(1))),
          java.nio.charset.StandardCharsets.ISO_8859_1);
      String other = new String(store.redisKey("a", Policy.of(hourly(2))),
          java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(same).isEqualTo(a);
      assertThat(other).isNotEqualTo(a);
      assertThat(other.substring(0, other.indexOf('}') + 1))
          .isEqualTo(a.substring(0, a.indexOf('}') + 1));
    }
  }

  private static long admitted(RateLimiter<String> limiter, String key, int calls) {
    long n = 0;
    for (int i = 0; i < calls; i++) {
      Decision d = limiter.decide(key, 1);
      // Redis decided: an admission by the script, a refusal by it or by its deny cache
      if (d.allowed()) {
        assertThat(d.source()).isEqualTo(Decision.Source.STORE);
      } else {
        assertThat(d.source()).isIn(Decision.Source.STORE, Decision.Source.DENY_CACHE);
      }
      if (d.allowed()) {
        n++;
      }
    }
    return n;
  }

  private static AtomicLong[] counters(int n) {
    AtomicLong[] out = new AtomicLong[n];
    for (int i = 0; i < n; i++) {
      out[i] = new AtomicLong();
    }
    return out;
  }
}
