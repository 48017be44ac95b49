package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real threads, started together by a barrier, no sleeps, every loop bounded. With the clock
 * frozen, any number of threads on one key admit exactly the capacity, never one more, on the
 * one-CAS path (whole-nanosecond interval), the general path (fractional interval; two limits),
 * for {@link TokenBucket} and {@link RateLimiter}. With the clock moving, admissions stay within
 * {@code capacity + floor(elapsed * rate)}, computed exactly. Many keys: each key's count is
 * exact. Many threads first-touching one new key create one bucket.
 */
class ConcurrencyTest {

  private static final long JOIN_MILLIS = 60_000;

  /** The three engine paths. */
  enum Path {
    /** One limit, 1 ms interval: LongEngine. */
    WHOLE_NANOS(Policy.of(Limit.perSecond(1000).withCapacity(10_000))),
    /** One limit, 1/7 s interval: GeneralEngine. */
    FRACTIONAL(Policy.of(Limit.perSecond(7).withCapacity(5000))),
    /** Two limits, the second binding: GeneralEngine, all-or-nothing. */
    TWO_LIMITS(Policy.of(Limit.perSecond(1000).withCapacity(10_000), Limit.perMinute(4000)));

    final Policy policy;

    Path(Policy policy) {
      this.policy = policy;
    }
  }

  /** What the threads hammer: one bucket, or one key of a limiter. */
  interface Subject {
    boolean tryAcquire(long permits);

    Decision decide(long permits);

    long available();
  }

  static Subject bucket(Policy policy, Ticker ticker) {
    TokenBucket b = TokenBucket.of(policy, ticker);
    return new Subject() {
      public boolean tryAcquire(long permits) {
        return b.tryAcquire(permits);
      }

      public Decision decide(long permits) {
        return b.decide(permits);
      }

      public long available() {
        return b.availablePermits();
      }
    };
  }

  static Subject key(Policy policy, Ticker ticker) {
    RateLimiter<String> limiter = RateLimiter.builder(policy).ticker(ticker).build();
    return new Subject() {
      public boolean tryAcquire(long permits) {
        return limiter.tryAcquire("the-key", permits);
      }

      public Decision decide(long permits) {
        return limiter.decide("the-key", permits);
      }

      public long available() {
        return limiter.availablePermits("the-key");
      }
    };
  }

  /** Runs {@code body(i)} on {@code n} threads released together; fails on any thrown error. */
  static void together(int n, IntConsumer body) {
    CyclicBarrier start = new CyclicBarrier(n);
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int id = i;
      Thread t = new Thread(() -> {
        try {
          start.await(JOIN_MILLIS, TimeUnit.MILLISECONDS);
          body.accept(id);
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "hammer-" + i);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      try {
        t.join(JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
    }
    assertThat(errors).isEmpty();
  }

  static Stream<Arguments> frozenCases() {
    return Stream.of(2, 4, 8, 16, 32, 64).flatMap(n -> Stream.of(Path.values())
        .flatMap(p -> Stream.of("TokenBucket", "RateLimiter").map(api -> Arguments.of(n, p, api))));
  }

  private static Subject subject(String api, Policy policy, Ticker ticker) {
    return api.equals("TokenBucket") ? bucket(policy, ticker) : key(policy, ticker);
  }

  @ParameterizedTest(name = "{0} threads, {1}, {2}")
  @MethodSource("frozenCases")
  void tryAcquire_frozenClockManyThreads_admitsExactlyTheCapacity(int threads, Path path, String api) {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 1);
    Subject s = subject(api, path.policy, ticker);
    long cap = path.policy.maxPermitsPerRequest();
    LongAdder admitted = new LongAdder();
    together(threads, id -> {
      // alternate the boolean and the decision paths; a refusal is final: the clock is frozen
      for (long i = 0; ; i++) {
        boolean ok = (i + id) % 2 == 0 ? s.tryAcquire(1) : s.decide(1).allowed();
        if (!ok) {
          return;
        }
        admitted.increment();
      }
    });
    assertThat(admitted.sum()).isEqualTo(cap);
    assertThat(s.available()).isZero();
    Decision d = s.decide(1);
    assertThat(d.allowed()).isFalse();
    assertThat(d.remaining()).isZero();
  }

  @ParameterizedTest(name = "{0} threads, {1}, {2}")
  @MethodSource("frozenCases")
  void tryAcquire_frozenClockMultiPermitRequests_takeExactlyTheCapacity(
      int threads, Path path, String api) {
    ManualTicker ticker = new ManualTicker(-1);
    Subject s = subject(api, path.policy, ticker);
    long cap = path.policy.maxPermitsPerRequest();
    LongAdder permits = new LongAdder();
    together(threads, id -> {
      Random rnd = new Random(id);
      // requests of 1 to 37 permits until one is refused, then single permits until refused
      for (;;) {
        long n = 1 + rnd.nextInt(37);
        Decision d = s.decide(n);
        if (!d.allowed()) {
          assertThat(d.retryAfterNanos()).isPositive();
          break;
        }
        permits.add(n);
      }
      while (s.tryAcquire(1)) {
        permits.increment();
      }
    });
    assertThat(permits.sum()).isEqualTo(cap);
    assertThat(s.available()).isZero();
  }

  /**
   * Thread 0 moves a ManualTicker forward in small steps between its own attempts while all
   * threads hammer (a fixed number of attempts each); then all drain with the clock frozen.
   * Admitted is at least the capacity (the bucket ends empty) and at most
   * capacity + floor(elapsed * rate).
   */
  @ParameterizedTest(name = "{0} threads, {1}, {2}")
  @MethodSource("frozenCases")
  void tryAcquire_manualClockMovingWhileHammered_staysWithinCapacityPlusRefill(
      int threads, Path path, String api) {
    long start = Long.MAX_VALUE - 200_000_000L; // wraps during the run
    ManualTicker ticker = new ManualTicker(start);
    Subject s = subject(api, path.policy, ticker);
    LongAdder admitted = new LongAdder();
    int attempts = 40_000 / threads;
    together(threads, id -> {
      Random rnd = new Random(id);
      for (int i = 0; i < attempts; i++) {
        if (id == 0 && i % 4 == 0) {
          // up to 0.4 ms per step, about 40 permits' worth at 1000/s over the whole run
          ticker.advance(rnd.nextInt(400_000) * 4L / threads);
        }
        long n = 1 + (i + id) % 3;
        if (s.tryAcquire(n)) {
          admitted.add(n);
        }
      }
      while (s.tryAcquire(1)) {
        admitted.increment();
      }
    });
    long elapsed = ticker.read() - start;
    assertThat(elapsed).isPositive();
    assertThat(admitted.sum()).isBetween(path.policy.maxPermitsPerRequest(),
        bound(path.policy, elapsed));
  }

  /** The same with the system ticker: elapsed is measured around the bucket's whole life. */
  @ParameterizedTest(name = "{0} threads")
  @ValueSource(ints = {2, 8, 64})
  void tryAcquire_systemClockHammered_staysWithinCapacityPlusRefill(int threads) {
    for (Policy policy : List.of(Policy.of(Limit.perSecond(20_000).withCapacity(100)),
        Policy.of(Limit.perSecond(7_001).withCapacity(50)),
        Policy.of(Limit.perSecond(50_000).withCapacity(80), Limit.perSecond(9_999).withCapacity(60)))) {
      long t0 = System.nanoTime();
      Subject s = bucket(policy, Ticker.system());
      LongAdder admitted = new LongAdder();
      together(threads, id -> {
        for (int i = 0; i < 20_000; i++) {
          if (s.tryAcquire(1)) {
            admitted.increment();
          }
        }
      });
      long elapsed = System.nanoTime() - t0;
      assertThat(admitted.sum()).as(policy.toString())
          .isLessThanOrEqualTo(bound(policy, elapsed));
    }
  }

  /** The fewest permits any limit can hand out over {@code elapsed} ns from full: C + floor(elapsed * N / P). */
  static long bound(Policy policy, long elapsed) {
    return policy.limits().stream().mapToLong(l -> BigInteger.valueOf(elapsed)
        .multiply(BigInteger.valueOf(l.refillPermits()))
        .divide(BigInteger.valueOf(l.refillPeriod().toNanos()))
        .add(BigInteger.valueOf(l.capacity())).longValueExact()).min().orElseThrow();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"WHOLE_NANOS", "FRACTIONAL", "TWO_LIMITS"})
  void tryAcquire_manyThreadsManyKeys_eachKeyAdmitsExactlyItsCapacity(String pathName) {
    Policy policy = switch (Path.valueOf(pathName)) {
      case WHOLE_NANOS -> Policy.of(Limit.perMinute(25));
      case FRACTIONAL -> Policy.of(Limit.of(25, Duration.ofSeconds(7)));
      case TWO_LIMITS -> Policy.of(Limit.perSecond(40), Limit.perMinute(25));
    };
    int keys = 300;
    int threads = 8;
    ManualTicker ticker = new ManualTicker(Long.MIN_VALUE + 5);
    try (RateLimiter<Integer> limiter = RateLimiter.builder(policy).ticker(ticker).build()) {
      AtomicLongArray admitted = new AtomicLongArray(keys);
      together(threads, id -> {
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
          order.add(k);
        }
        Collections.shuffle(order, new Random(id));
        boolean any = true;
        while (any) {
          any = false;
          for (int k : order) {
            if (limiter.tryAcquire(k)) {
              admitted.incrementAndGet(k);
              any = true;
            }
          }
        }
      });
      for (int k = 0; k < keys; k++) {
        assertThat(admitted.get(k)).as("key " + k).isEqualTo(25);
        assertThat(limiter.availablePermits(k)).isZero();
      }
      assertThat(limiter.size()).isEqualTo(keys);
    }
  }

  @ParameterizedTest(name = "{0} threads")
  @ValueSource(ints = {2, 16, 64})
  void tryAcquire_manyThreadsFirstTouchingANewKey_createOneBucket(int threads) {
    ManualTicker ticker = new ManualTicker();
    int rounds = Math.max(40, 1000 / threads);
    for (Path path : Path.values()) {
      Policy policy = Policy.of(path.policy.limits().stream()
          .map(l -> l.withCapacity(3)).toArray(Limit[]::new));
      try (RateLimiter<String> limiter = RateLimiter.builder(policy).ticker(ticker).build()) {
        AtomicLongArray admitted = new AtomicLongArray(rounds);
        CyclicBarrier round = new CyclicBarrier(threads);
        // the same threads race on a new key each round, released together by the barrier
        together(threads, id -> {
          for (int r = 0; r < rounds; r++) {
            try {
              round.await(JOIN_MILLIS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            String key = "new-" + r;
            while (limiter.tryAcquire(key)) {
              admitted.incrementAndGet(r);
            }
          }
        });
        for (int r = 0; r < rounds; r++) {
          assertThat(admitted.get(r)).as(path + " round " + r).isEqualTo(3);
        }
        assertThat(limiter.size()).isEqualTo(rounds);
      }
    }
  }
}
