package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Leasing of hot keys ({@link RedisStore.Factory#leasing}), on a real redis-server. The exact
 * timelines run on a controlled clock (the script's {@code now} is a test argument, and the
 * stores' own clock moves with it), so every decision of a step happens at one known instant and
 * windows are checked exactly; the expiry of a dead node's lease and the give-back of a quiet
 * key run on Redis's clock, waiting for conditions (no sleeps).
 */
class LeaseTest {

  /** The controlled clock, in the script's microseconds. */
  private static final AtomicLong NOW = new AtomicLong(7_000_000_000_000L);
  private static RedisStore.Factory controlled;
  private static RedisStore.Factory real;

  @BeforeAll
  static void connect() {
    Clocks clocks = new Clocks(NOW::get, () -> NOW.get() * 1000);
    Function<Ticker, Clocks> fixed = ticker -> clocks;
    controlled = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(5))
        .leasing(Duration.ofSeconds(1)).clocks(fixed);
    real = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(5));
  }

  @AfterAll
  static void close() {
    if (controlled != null) {
      controlled.close();
    }
    if (real != null) {
      real.close();
    }
  }

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(100).withCapacity(50)),
        Policy.of(Limit.perSecond(7).withCapacity(20)),
        Policy.of(Limit.of(1_000, Duration.ofSeconds(3)).withCapacity(300)),
        Policy.of(Limit.perSecond(50).withCapacity(30), Limit.perMinute(500)));
  }

  /**
   * (a) Three nodes hammer one key, in bursts above the rate and pauses that let the bucket fill
   * (so that leases are large): in every window of steps, the admissions of all nodes (from Redis
   * and from leases) are at most {@code C + floor(W * rate)} for every limit, and after every
   * step Redis's state has available + held at most the smallest capacity.
   */
  @ParameterizedTest
  @MethodSource("policies")
  void hotKeyOnThreeNodes_everyWindowWithinBound_availablePlusHeldWithinCapacity(Policy policy) {
    String name = SharedRedis.uniqueName("lease-exact");
    SplittableRandom random = new SplittableRandom(policy.hashCode());
    long minCapacity = policy.maxPermitsPerRequest();
    List<RedisStore<String>> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(controlled.create(name, policy, Ticker.system()));
    }
    try {
      List<Long> times = new ArrayList<>();
      List<Long> admitted = new ArrayList<>();
      long leased = 0;
      for (int step = 0; step < 1_500; step++) {
        int phase = (step / 100) % 3;
        long gap = phase == 2 ? random.nextLong(5_000, 60_000) : random.nextLong(0, 1_500);
        NOW.addAndGet(gap);
        long in = 0;
        for (RedisStore<String> node : nodes) {
          int tries = phase == 2 ? random.nextInt(2) : random.nextInt(1, 6);
          for (int t = 0; t < tries; t++) {
            long permits = random.nextInt(8) == 0 ? 2 : 1;
            Decision d = node.decide("hot", permits);
            if (d.allowed()) {
              in += permits;
              if (d.source() == Decision.Source.LEASE) {
                leased += permits;
              }
            }
          }
        }
        times.add(NOW.get());
        admitted.add(in);
        long[] ah = nodes.get(step % 3).availableAndHeld("hot");
        assertThat(ah[0] + ah[1]).as("available %d + held %d at step %d", ah[0], ah[1], step)
            .isLessThanOrEqualTo(minCapacity);
      }
      assertWindows(policy, times, admitted);
      long total = admitted.stream().mapToLong(Long::longValue).sum();
      long trips = nodes.stream().mapToLong(n -> n.stats.roundTrips.get()).sum();
      System.out.printf("exact %s: %d admitted, %d from leases, %d round trips (with the"
          + " checks' looks)%n", policy, total, leased, trips);
      assertThat(leased).as("admissions served from leases").isPositive();
    } finally {
      nodes.forEach(RedisStore::close);
    }
  }

  /**
   * (b) The case that breaks "take k, serve later": node A holds a large lease, unused, while
   * time passes beyond the fill time; node B then drains the bucket, and A spends its lease, all
   * at one instant. B gets at most {@code C - lease} (refill stopped at the capacity less what A
   * holds), so the instant sees at most {@code C}, not {@code C + lease}.
   */
  @Test
  void refillWhileLeased_drainThenSpendLease_instantSeesAtMostCapacity() {
    Policy policy = Policy.of(Limit.perSecond(100).withCapacity(1_000));
    String name = SharedRedis.uniqueName("lease-refill");
    RedisStore.Factory longLeases = controlled.leasing(Duration.ofSeconds(30));
    try (RedisStore<String> a = longLeases.create(name, policy, Ticker.system());
        RedisStore<String> b = longLeases.create(name, policy, Ticker.system())) {
      // A becomes hot and takes leases that double, until one of at least 100 is fresh
      long aTook = 0;
      for (int i = 0; i < 2_000 && a.leaseLeft("k") < 100; i++) {
        assertThat(a.decide("k", 1).allowed()).isTrue();
        aTook++;
      }
      long lease = a.leaseLeft("k");
      assertThat(lease).as("A's lease after %d decisions", aTook).isGreaterThanOrEqualTo(100);
      // 20 s later: twice the fill time, within the lease's life of 30 s
      NOW.addAndGet(20_000_000);
      long bGot = 0;
      for (int i = 0; i < 3_000; i++) {
        if (b.decide("k", 1).allowed()) {
          bGot++;
        }
      }
      long aGot = 0;
      for (int i = 0; i < 3_000; i++) {
        if (a.decide("k", 1).allowed()) {
          aGot++;
        }
      }
      assertThat(aGot).as("A spends its lease").isGreaterThanOrEqualTo(lease);
      assertThat(bGot + aGot).as("B %d + A %d at one instant (lease %d)", bGot, aGot, lease)
          .isLessThanOrEqualTo(1_000);
      long[] ah = a.availableAndHeld("k");
      assertThat(ah[0] + ah[1]).isLessThanOrEqualTo(1_000);
    }
  }

  /**
   * A lease spent just before it expires, never given back: when Redis drops it, the bucket is
   * first clamped, at the expiry, at the capacity it had until then (C less the lease), so the
   * refill that came while the lease was held cannot be handed out on top of the lease. Across
   * the expiry, a window sees at most {@code C + floor(W * rate)}.
   */
  @Test
  void leaseSpentThenExpires_refillBeyondCapNotKept_windowWithinBound() {
    Policy policy = Policy.of(Limit.perSecond(100).withCapacity(1_000));
    String name = SharedRedis.uniqueName("lease-expiry");
    RedisStore.Factory longLeases = controlled.leasing(Duration.ofSeconds(30));
    try (RedisStore<String> a = longLeases.create(name, policy, Ticker.system());
        RedisStore<String> b = longLeases.create(name, policy, Ticker.system())) {
      for (int i = 0; i < 2_000 && a.leaseLeft("k") < 100; i++) {
        assertThat(a.decide("k", 1).allowed()).isTrue();
      }
      long t0 = NOW.get();
      // just before A's own expiry (30 s less 30 ms and 2 µs after it sent the grant), A spends
      // the whole lease, and never gives it back
      NOW.set(t0 + 29_950_000);
      long aGot = 0;
      while (a.leaseLeft("k") > 0) {
        assertThat(a.decide("k", 1).source()).isEqualTo(Decision.Source.LEASE);
        aGot++;
      }
      long t1 = NOW.get();
      // 1 ms after Redis's expiry of the lease, B drains the bucket
      NOW.set(t0 + 30_001_000);
      long bGot = 0;
      for (int i = 0; i < 3_000; i++) {
        if (b.decide("k", 1).allowed()) {
          bGot++;
        }
      }
      long w = NOW.get() - t1;
      assertThat(aGot + bGot).as("A %d then B %d within %d µs", aGot, bGot, w)
          .isLessThanOrEqualTo(1_000 + w / 10_000);
    }
  }

  /**
   * A policy change of a leased key (plans, a live change): the conversion caps the old bucket
   * at {@code C - held} and carries the unexpired leases into the new bucket, where they count
   * against the new capacity; the replaced policy's leases of the node that changed are given
   * back into the new bucket. A, still serving its lease of the old policy, and B, draining under
   * the new one, admit at most the new capacity at one instant (without the carry-over: the
   * new capacity plus A's lease).
   */
  @Test
  void policyChangeOfALeasedKey_leasesCarriedOver_newCapacityCountsThem() {
    Policy p1 = Policy.of(Limit.perSecond(100).withCapacity(1_000));
    Policy p2 = Policy.of(Limit.perSecond(100).withCapacity(800));
    String name = SharedRedis.uniqueName("lease-policy");
    RedisStore.Factory longLeases = controlled.leasing(Duration.ofSeconds(30));
    try (RedisStore<String> a = longLeases.create(name, p1, Ticker.system());
        RedisStore<String> b = longLeases.create(name, p1, Ticker.system())) {
      for (int i = 0; i < 2_000 && a.leaseLeft("k") < 100; i++) {
        assertThat(a.decide("k", 1).allowed()).isTrue();
      }
      for (int i = 0; i < 2_000 && b.leaseLeft("k") == 0; i++) {
        assertThat(b.decide("k", 1).allowed()).isTrue();
      }
      long aLease = a.leaseLeft("k");
      assertThat(aLease).isGreaterThanOrEqualTo(100);
      assertThat(b.leaseLeft("k")).isPositive();
      // 5 s later the old bucket is at its cap, 1,000 less what A and B hold
      NOW.addAndGet(5_000_000);
      b.policyReplaced(p1, p2);
      Await.until(Duration.ofSeconds(20), 1_000, () -> {
        long[] ah = b.availableAndHeld("k", p2);
        assertThat(ah[0] + ah[1]).as("available + held under the new policy")
            .isLessThanOrEqualTo(800);
        return ah[1] == aLease;
      }, "B's old lease given back into the new bucket, A's carried over");
      long bGot = 0;
      for (int i = 0; i < 3_000; i++) {
        if (b.decide("k", p2, 1).allowed()) {
          bGot++;
        }
      }
      long aGot = 0;
      while (a.leaseLeft("k") > 0) {
        assertThat(a.decide("k", 1).source()).isEqualTo(Decision.Source.LEASE);
        aGot++;
      }
      assertThat(aGot).isEqualTo(aLease);
      assertThat(bGot + aGot).as("B %d under the new policy + A's lease %d", bGot, aGot)
          .isLessThanOrEqualTo(800);
      assertThat(bGot + aGot).as("the new bucket was at its capacity").isEqualTo(800);
    }
  }

  /**
   * (c) A node that dies holding a lease (its connection gone, nothing given back): Redis counts
   * the lease until it expires by Redis's clock, then drops it, and the bucket refills to its
   * full capacity again.
   */
  @Test
  void nodeDiesHoldingLease_leaseReleasedWhenItExpiresByRedisClock() {
    Policy policy = Policy.of(Limit.perSecond(1_000).withCapacity(200));
    String name = SharedRedis.uniqueName("lease-dies");
    RedisStore.Factory dying = RedisStore.factory(SharedRedis.uri())
        .deadline(Duration.ofSeconds(5)).leasing(Duration.ofSeconds(3));
    try (RedisStore<String> observer = real.create(name, policy, Ticker.system())) {
      RedisStore<String> node = dying.create(name, policy, Ticker.system());
      for (int i = 0; i < 200 && node.leaseLeft("k") == 0; i++) {
        node.decide("k", 1);
      }
      assertThat(node.leaseLeft("k")).as("a lease").isPositive();
      long[] before = observer.availableAndHeld("k");
      // the node dies: its connection closes at once, its lease is never given back
      dying.close();
      node.close();
      assertThat(before[1]).as("held while the node lived").isPositive();
      assertThat(before[0] + before[1]).isLessThanOrEqualTo(200);
      Await.until(Duration.ofSeconds(20), 10_000, () -> {
        long[] ah = observer.availableAndHeld("k");
        assertThat(ah[0] + ah[1]).isLessThanOrEqualTo(200);
        return ah[1] == 0 && ah[0] == 200;
      }, "the dead node's lease expires and the bucket refills to 200");
    } finally {
      dying.close();
    }
  }

  /**
   * A quiet key's lease is given back by the node (before it expires): its unused permits are
   * available again, exactly (the limit refills once an hour, so nothing else moves).
   */
  @Test
  void quietKey_leaseGivenBack_unusedPermitsAvailableAgain() {
    Policy policy = Policy.of(Limit.of(1, Duration.ofHours(1)).withCapacity(1_000));
    String name = SharedRedis.uniqueName("lease-back");
    // the node gives the lease back 3/4 into its life of 4 s: 1 s to spare on a busy machine
    RedisStore.Factory leasing = real.leasing(Duration.ofSeconds(4));
    try (RedisStore<String> node = leasing.create(name, policy, Ticker.system());
        RedisStore<String> observer = real.create(name, policy, Ticker.system())) {
      long taken = 0;
      for (int i = 0; i < 200 && node.leaseLeft("k") == 0; i++) {
        assertThat(node.decide("k", 1).allowed()).isTrue();
        taken++;
      }
      assertThat(node.leaseLeft("k")).isPositive();
      long served = 0;
      for (int i = 0; i < 3 && node.leaseLeft("k") > 3; i++) {
        Decision d = node.decide("k", 1);
        assertThat(d.source()).isEqualTo(Decision.Source.LEASE);
        assertThat(d.remaining()).isEqualTo(node.leaseLeft("k"));
        served++;
      }
      long used = taken + served;
      Await.until(Duration.ofSeconds(20), 5_000, () -> {
        long[] ah = observer.availableAndHeld("k");
        return ah[1] == 0;
      }, "the lease given back");
      assertThat(observer.availableAndHeld("k")[0]).isEqualTo(1_000 - used);
      assertThat(node.stats.leaseReturns.get()).isPositive();
    }
  }

  /** (d) A key with fewer decisions per lease life than the threshold is never leased. */
  @Test
  void lowTrafficKey_neverLeased() {
    Policy policy = Policy.of(Limit.perSecond(100).withCapacity(100));
    String name = SharedRedis.uniqueName("lease-cold");
    try (RedisStore<String> node = controlled.create(name, policy, Ticker.system())) {
      for (int i = 0; i < 200; i++) {
        // 5 decisions per second of the script's clock, below 8 per lease life (1 s)
        NOW.addAndGet(200_000);
        Decision d = node.decide("cold", 1);
        assertThat(d.source()).isEqualTo(Decision.Source.STORE);
        assertThat(d.allowed()).isTrue();
        assertThat(node.availableAndHeld("cold")[1]).isZero();
      }
      assertThat(node.stats.leasesGranted.get()).isZero();
      assertThat(node.stats.leaseHits.get()).isZero();
    }
  }

  /**
   * (e) A hot key far below its limit: Redis's calls per decision drop to a small fraction, by
   * the store's own count of commands and by Redis's {@code INFO commandstats}.
   */
  @Test
  void hotKeyFarBelowLimit_redisCallsPerDecisionDrop() {
    Policy policy = Policy.of(Limit.perSecond(1_000_000));
    String name = SharedRedis.uniqueName("lease-calls");
    RedisStore.Factory leasing = real.leasing(Duration.ofSeconds(1));
    RedisClient client = RedisClient.create(SharedRedis.uri());
    try (RedisStore<String> node = leasing.create(name, policy, Ticker.system());
        StatefulRedisConnection<String, String> info = client.connect()) {
      int decisions = 20_000;
      long tripsBefore = node.stats.roundTrips.get();
      long evalsBefore = evalshaCalls(info.sync().info("commandstats"));
      for (int i = 0; i < decisions; i++) {
        assertThat(node.decide("hot", 1).allowed()).isTrue();
      }
      long trips = node.stats.roundTrips.get() - tripsBefore;
      long evals = evalshaCalls(info.sync().info("commandstats")) - evalsBefore;
      System.out.printf("leasing: %d decisions, %d round trips, %d EVALSHA in Redis, %d from"
          + " leases%n", decisions, trips, evals, node.stats.leaseHits.get());
      assertThat(trips).as("round trips for %d decisions", decisions)
          .isLessThanOrEqualTo(decisions / 10);
      assertThat(node.stats.leaseHits.get()).isGreaterThanOrEqualTo(decisions * 9L / 10);
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  /**
   * Many threads on three leasing stores, the clock frozen (no refill): together they admit at
   * most the capacity, and once every store has closed (giving its leases back) Redis holds
   * exactly what was not admitted and no lease: no permit minted, none lost.
   */
  @Test
  void manyThreadsOnThreeStores_frozenClock_noPermitMintedOrLost() throws Exception {
    Policy policy = Policy.of(Limit.of(1, Duration.ofHours(1)).withCapacity(2_000));
    String name = SharedRedis.uniqueName("lease-threads");
    List<RedisStore<String>> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(controlled.create(name, policy, Ticker.system()));
    }
    RedisStore<String> observer = real.clocks(ticker -> new Clocks(NOW::get, () -> NOW.get() * 1000))
        .create(name, policy, Ticker.system());
    AtomicLong admitted = new AtomicLong();
    AtomicLong fromLeases = new AtomicLong();
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    try {
      for (int t = 0; t < 6; t++) {
        RedisStore<String> node = nodes.get(t % 3);
        Thread thread = new Thread(() -> {
          try {
            start.await();
            for (int i = 0; i < 1_000; i++) {
              Decision d = i % 2 == 0 ? node.decide("k", 1)
                  : node.decideAsync("k", 1).toCompletableFuture().join();
              if (d.allowed()) {
                admitted.incrementAndGet();
                if (d.source() == Decision.Source.LEASE) {
                  fromLeases.incrementAndGet();
                }
              }
            }
          } catch (Throwable e) {
            errors.add(e);
          }
        });
        thread.start();
        threads.add(thread);
      }
      start.countDown();
      for (Thread thread : threads) {
        thread.join(60_000);
      }
      assertThat(errors).isEmpty();
      assertThat(admitted.get()).isLessThanOrEqualTo(2_000);
      assertThat(fromLeases.get()).isPositive();
      // Redis's available plus what the leases have left is what was not admitted (less a
      // give-back still on its way); what the leases hold includes what they served
      long[] during = observer.availableAndHeld("k");
      long left = nodes.stream().mapToLong(n -> n.leaseLeft("k")).sum();
      assertThat(during[0] + left + admitted.get()).isLessThanOrEqualTo(2_000);
      assertThat(during[0] + during[1]).isLessThanOrEqualTo(2_000);
      nodes.forEach(RedisStore::close);
      Await.until(Duration.ofSeconds(20), 1_000, () -> observer.availableAndHeld("k")[1] == 0,
          "every lease given back");
      System.out.printf("threads: %d admitted, %d from leases%n", admitted.get(),
          fromLeases.get());
      assertThat(observer.availableAndHeld("k")[0] + admitted.get())
          .as("available after the give-backs + admitted (%d, %d from leases)", admitted.get(),
              fromLeases.get())
          .isEqualTo(2_000);
    } finally {
      nodes.forEach(RedisStore::close);
      observer.close();
    }
  }

  /**
   * On a 3-master Cluster (a lease is in its bucket's key, so in its slot): a hot key is served
   * from leases, and once the store closed (giving its lease back) Redis holds exactly what was
   * not admitted (the limit refills once an hour).
   */
  @Test
  void cluster_hotKeyLeased_givenBackExactly() {
    Policy policy = Policy.of(Limit.of(1, Duration.ofHours(1)).withCapacity(500));
    String name = SharedRedis.uniqueName("lease-cluster");
    RedisStore.Factory cluster = RedisStore.factory(SharedRedis.clusterUri())
        .deadline(Duration.ofSeconds(5));
    try (RedisStore<String> observer = cluster.create(name, policy, Ticker.system())) {
      long admitted = 0;
      long leased = 0;
      try (RedisStore<String> node = cluster.leasing(Duration.ofSeconds(10))
          .create(name, policy, Ticker.system())) {
        for (int i = 0; i < 300; i++) {
          Decision d = node.decide("hot", 1);
          if (d.allowed()) {
            admitted++;
            leased += d.source() == Decision.Source.LEASE ? 1 : 0;
          }
        }
        // Redis's available plus what this node's lease has left is what was not admitted
        long[] ah = observer.availableAndHeld("hot");
        long left = node.leaseLeft("hot");
        assertThat(ah[0] + left).isEqualTo(500 - admitted);
        assertThat(ah[1]).isGreaterThanOrEqualTo(left).isPositive();
        assertThat(ah[0] + ah[1]).isLessThanOrEqualTo(500);
      }
      assertThat(leased).isPositive();
      Await.until(Duration.ofSeconds(20), 1_000, () -> observer.availableAndHeld("hot")[1] == 0,
          "the lease given back");
      assertThat(observer.availableAndHeld("hot")[0]).isEqualTo(500 - admitted);
    } finally {
      cluster.close();
    }
  }

  /** Leasing is off by default: a hot key is decided by Redis every time. */
  @Test
  void leasingOff_hotKeyAlwaysDecidedByRedis() {
    Policy policy = Policy.of(Limit.perSecond(1_000_000));
    try (RedisStore<String> node = real.create(SharedRedis.uniqueName("lease-off"), policy,
        Ticker.system())) {
      for (int i = 0; i < 100; i++) {
        assertThat(node.decide("hot", 1).source()).isEqualTo(Decision.Source.STORE);
      }
      assertThat(node.availableAndHeld("hot")[1]).isZero();
    }
  }

  /** {@code cmdstat_evalsha:calls=N,...} from INFO commandstats, or 0. */
  private static long evalshaCalls(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("cmdstat_evalsha:calls=")) {
        String v = line.substring("cmdstat_evalsha:calls=".length());
        return Long.parseLong(v.substring(0, v.indexOf(',')));
      }
    }
    return 0;
  }

  /**
   * For every window of steps {@code [i, j]} and every limit, the permits admitted in it are at
   * most {@code C + floor((t_j - t_i) * N / P)} (times in µs, exact integers).
   */
  private static void assertWindows(Policy policy, List<Long> times, List<Long> admitted) {
    int n = times.size();
    long[] prefix = new long[n + 1];
    for (int i = 0; i < n; i++) {
      prefix[i + 1] = prefix[i] + admitted.get(i);
    }
    for (Limit limit : policy.limits()) {
      long num = Math.multiplyExact(limit.refillPermits(), 1000L);
      long per = limit.refillPeriod().toNanos();
      for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++) {
          long w = times.get(j) - times.get(i);
          long bound = limit.capacity() + Math.multiplyExact(w, num) / per;
          long in = prefix[j + 1] - prefix[i];
          if (in > bound) {
            throw new AssertionError("window of steps " + i + ".." + j + " (" + w + " µs) admitted "
                + in + " > " + bound + " for " + limit);
          }
        }
      }
    }
  }
}
