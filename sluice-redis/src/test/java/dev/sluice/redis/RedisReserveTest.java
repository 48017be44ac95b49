package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Reservation;
import dev.sluice.Ticker;
import dev.sluice.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reservations in Redis, by Redis's clock: a timeline on the script's fixed clock (waits to the
 * microsecond, the bound exactly at and below the wait, cancel of the latest and of one behind
 * it), and blocking acquire across two nodes on the real clock.
 */
class RedisReserveTest {

  private static final AtomicLong NOW_MICROS = new AtomicLong(40_000_000_000_000L);
  private static RedisStore.Factory fixed;
  /** The stores' ticker, on the script's fixed clock: a reservation's due reading agrees with it. */
  private static final Ticker SCRIPT_TICKER = () -> NOW_MICROS.get() * 1000;

  @BeforeAll
  static void connect() {
    fixed = RedisStore.factory(SharedRedis.uri()).denyCache(false).deadline(Duration.ofSeconds(5))
        .clocks(TestClocks.fixed(NOW_MICROS::get));
  }

  @AfterAll
  static void close() {
    if (fixed != null) {
      fixed.close();
    }
  }

  @Test
  void reserve_timeline_inOrderExactWaitsBoundAndCancel() {
    Policy tenPerSecond = Policy.of(Limit.perSecond(10).withCapacity(1));
    try (RedisStore<String> store = fixed.create(SharedRedis.uniqueName("reserve"), tenPerSecond,
        SCRIPT_TICKER)) {
      Reservation first = store.reserve("k", tenPerSecond, 1, 0);
      assertThat(first.granted()).isTrue();
      assertThat(first.delay()).isEqualTo(Duration.ZERO);
      Reservation second = store.reserve("k", tenPerSecond, 1, Duration.ofSeconds(1).toNanos());
      assertThat(second.granted()).isTrue();
      assertThat(second.delay()).isEqualTo(Duration.ofMillis(100));
      // the third is due at 200 ms: a bound 1 µs below refuses and takes nothing
      Reservation tooLong = store.reserve("k", tenPerSecond, 1,
          Duration.ofMillis(200).minusNanos(1_000).toNanos());
      assertThat(tooLong.granted()).isFalse();
      assertThat(tooLong.delay()).isEqualTo(Duration.ofMillis(200));
      Reservation third = store.reserve("k", tenPerSecond, 1, Duration.ofMillis(200).toNanos());
      assertThat(third.granted()).isTrue();
      assertThat(third.delay()).isEqualTo(Duration.ofMillis(200));
      // one behind the latest: nothing back; the latest: back, exactly
      assertThat(second.cancel()).isFalse();
      assertThat(third.cancel()).isTrue();
      Reservation again = store.reserve("k", tenPerSecond, 1, Duration.ofSeconds(1).toNanos());
      assertThat(again.delay()).isEqualTo(Duration.ofMillis(200));
      // a take now is refused: every permit until 300 ms is reserved; a refund gives nothing
      // back while permits are reserved (the reservations after it were decided on its state)
      assertThat(store.decide("k", tenPerSecond, 1).allowed()).isFalse();
      store.refund("k", tenPerSecond, 1, 0);
      assertThat(store.reserve("k", tenPerSecond, 1, 0).delay())
          .isEqualTo(Duration.ofMillis(300));
      NOW_MICROS.addAndGet(300_000);
      assertThat(again.cancel()).as("due already").isFalse();
      assertThat(store.decide("k", tenPerSecond, 1).allowed()).isTrue();
      // more than the capacity: never, without a wait
      Reservation never = store.reserve("k", tenPerSecond, 2, Duration.ofDays(1).toNanos());
      assertThat(never.exceedsCapacity()).isTrue();
    }
  }

  @Test
  void reserve_twoLimits_chargedAtTheDueInstant() {
    Policy two = Policy.of(Limit.perSecond(10).withCapacity(1),
        Limit.perMinute(600).withCapacity(10));
    try (RedisStore<String> store = fixed.create(SharedRedis.uniqueName("reserve2"), two,
        SCRIPT_TICKER)) {
      long bound = Duration.ofSeconds(10).toNanos();
      for (int i = 0; i < 10; i++) {
        Reservation r = store.reserve("k", two, 1, bound);
        assertThat(r.granted()).isTrue();
        assertThat(r.delay()).isEqualTo(Duration.ofMillis(100L * i));
      }
      // 10 reserved over 900 ms: the minute limit (10 per second too) refilled 9 of them by
      // their due instants, so the 11th is due at 1 s, not at 10 s
      Reservation eleventh = store.reserve("k", two, 1, bound);
      assertThat(eleventh.delay()).isEqualTo(Duration.ofSeconds(1));
    }
  }

  /**
   * A live change with reservations pending, as in the core ({@code ReservationPolicyChangeTest}):
   * 10 per second (burst 1) with 5 reserved (due at 100 to 500 ms); changed to 20 per second the
   * debt keeps its instant (next permit at 550 ms, none at 300 ms beside the reservation due
   * then); changed to 5 per second the 5 permits owed take 1 s (next at 1.2 s).
   */
  @Test
  void reserve_policyChangeWithDebt_keepsItsInstant() {
    Policy ten = Policy.of(Limit.perSecond(10).withCapacity(1));
    Policy twenty = Policy.of(Limit.perSecond(20).withCapacity(1));
    Policy five = Policy.of(Limit.perSecond(5).withCapacity(1));
    try (RedisStore<String> store = fixed.create(SharedRedis.uniqueName("reserve-change"), ten,
        SCRIPT_TICKER)) {
      for (String key : new String[] {"faster", "slower"}) {
        assertThat(store.decide(key, ten, 1).allowed()).isTrue();
        for (int i = 1; i <= 5; i++) {
          Reservation r = store.reserve(key, ten, 1, Duration.ofSeconds(1).toNanos());
          assertThat(r.delay()).isEqualTo(Duration.ofMillis(100L * i));
        }
      }
      assertThat(store.decide("faster", twenty, 1).retryAfterNanos())
          .isEqualTo(Duration.ofMillis(550).toNanos());
      assertThat(store.decide("slower", five, 1).retryAfterNanos())
          .isEqualTo(Duration.ofMillis(1200).toNanos());
      NOW_MICROS.addAndGet(300_000);
      assertThat(store.decide("faster", twenty, 1).allowed()).as("300 ms is reserved").isFalse();
      NOW_MICROS.addAndGet(250_000);
      assertThat(store.decide("faster", twenty, 1).allowed()).isTrue();
      NOW_MICROS.addAndGet(650_000);
      assertThat(store.decide("slower", five, 1).allowed()).isTrue();
    }
  }

  /**
   * Random reservations, takes, cancels and waits decide in Redis as in the core (grant,
   * delay, whether a cancel gives back, every take's answer), for policies whose intervals are
   * whole microseconds (the instants are too, so Redis's microsecond rounding of the due
   * instant is the core's nanosecond one), one limit and two.
   */
  @Test
  void reserve_randomTimelines_matchTheCore() {
    List<Policy> policies = List.of(
        Policy.of(Limit.perSecond(10).withCapacity(5)),
        Policy.of(Limit.of(4, Duration.ofMillis(1)).withCapacity(40)),
        Policy.of(Limit.perSecond(10).withCapacity(3), Limit.perMinute(600).withCapacity(20)));
    SplittableRandom random = new SplittableRandom(1202);
    for (Policy policy : policies) {
      for (int run = 0; run < 4; run++) {
        NOW_MICROS.set(40_000_000_000_000L + random.nextLong(0, 1_000_000_000L));
        ManualTicker ticker = new ManualTicker(NOW_MICROS.get() * 1000 + 555_000_000_000L);
        long cap = policy.maxPermitsPerRequest();
        try (RedisStore<String> store = fixed.create(SharedRedis.uniqueName("rcore"), policy,
            SCRIPT_TICKER);
            RateLimiter<String> core = RateLimiter.builder(policy).ticker(ticker).build()) {
          List<Reservation[]> granted = new ArrayList<>();
          StringBuilder log = new StringBuilder();
          for (int step = 0; step < 80; step++) {
            int op = random.nextInt(10);
            String at = "run " + run + " step " + step + " " + policy + log;
            if (op < 5) {
              long n = 1 + random.nextLong(cap);
              long bound = random.nextInt(4) == 0 ? 0 : random.nextLong(0, 2_000_000) * 1000;
              Reservation c = core.reserve("k", n, Duration.ofNanos(bound));
              Reservation r = store.reserve("k", policy, n, bound);
              log.append("\n reserve ").append(n).append(" within ").append(bound).append(": ")
                  .append(c);
              assertThat(r.granted()).as(at).isEqualTo(c.granted());
              if (!c.exceedsCapacity()) {
                assertThat(r.delay()).as(at).isEqualTo(c.delay());
              }
              if (c.granted()) {
                granted.add(new Reservation[] {c, r});
              }
            } else if (op < 7) {
              long n = 1 + random.nextLong(cap);
              boolean c = core.decide("k", n).allowed();
              log.append("\n take ").append(n).append(": ").append(c);
              assertThat(store.decide("k", policy, n).allowed()).as(at).isEqualTo(c);
            } else if (op < 8 && !granted.isEmpty()) {
              Reservation[] pair = granted.remove(random.nextInt(granted.size()));
              boolean c = pair[0].cancel();
              log.append("\n cancel: ").append(c);
              assertThat(pair[1].cancel()).as(at).isEqualTo(c);
            } else {
              long gap = random.nextLong(0, 400_000);
              NOW_MICROS.addAndGet(gap);
              ticker.advance(gap * 1000);
              log.append("\n +").append(gap).append(" µs");
            }
          }
        }
      }
    }
  }

  /**
   * Two nodes (two factories, each its own connection) acquire one key on Redis's real clock:
   * they wait their turns. Capacity 1 at 20/s: the second acquire of the fleet waits out the
   * rest of the first's 50 ms, never less.
   */
  @Test
  void acquire_twoNodes_waitTheirTurnsByRedisClock() {
    String name = SharedRedis.uniqueName("pace");
    Policy policy = Policy.of(Limit.perSecond(20).withCapacity(1));
    try (RedisStore.Factory a = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(2));
        RedisStore.Factory b = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(2));
        RateLimiter<String> nodeA = RateLimiter.builder(policy).name(name).store(a)
            .failureMode(FailureMode.CLOSED).build();
        RateLimiter<String> nodeB = RateLimiter.builder(policy).name(name).store(b)
            .failureMode(FailureMode.CLOSED).build()) {
      long start = System.nanoTime();
      assertThat(nodeA.acquire("k", 1, Duration.ofSeconds(5))).isTrue();
      assertThat(nodeB.acquire("k", 1, Duration.ofSeconds(5))).isTrue();
      assertThat(nodeA.acquire("k", 1, Duration.ofSeconds(5))).isTrue();
      long elapsed = System.nanoTime() - start;
      // three permits of one bucket at 20/s from full: the third is due 100 ms after the first
      assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
      // and a reservation beyond its bound takes nothing
      Reservation r = nodeB.reserve("k", 1, Duration.ZERO);
      assertThat(r.granted()).isFalse();
    }
  }
}
