package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.spi.contract.SwitchableStoreFactory;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Refunds in memory: exact, never more than taken, capped at full; bad input and failures. */
class RefundTest {

  /**
   * A bucket that takes and at once gives back, at random instants, decides everything else
   * exactly as a bucket that never took: the refund undoes the take to the (sub)nanosecond, on
   * both engines, fractional rates and several limits included.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void takeThenRefund_randomSchedules_sameDecisionsAsNeverTaken(int shape) {
    Policy policy = switch (shape) {
      case 0 -> Policy.of(Limit.perSecond(10).withCapacity(5));
      case 1 -> Policy.of(Limit.perSecond(7).withCapacity(3));
      case 2 -> Policy.of(new Limit(20, 999_983, Duration.ofSeconds(7), 20));
      default -> Policy.of(Limit.perSecond(7).withCapacity(4), Limit.perMinute(30));
    };
    SplittableRandom random = new SplittableRandom(42 + shape);
    for (int run = 0; run < 50; run++) {
      long start = random.nextInt(4) == 0 ? Long.MAX_VALUE - random.nextLong(1_000_000_000L)
          : random.nextLong();
      ManualTicker t = new ManualTicker(start);
      TokenBucket refunded = TokenBucket.of(policy, t);
      TokenBucket plain = TokenBucket.of(policy, t);
      for (int step = 0; step < 300; step++) {
        t.advance(Duration.ofNanos(random.nextLong(200_000_000L)));
        long n = 1 + random.nextLong(policy.maxPermitsPerRequest());
        if (random.nextInt(3) == 0) {
          Decision taken = refunded.decide(n);
          if (taken.allowed()) {
            refunded.refund(n, Duration.ZERO); // at once: exact
          }
        }
        assertThat(refunded.decide(n)).as("run %d step %d", run, step).isEqualTo(plain.decide(n));
      }
    }
  }

  /**
   * Given back later, with other takes in between, a refund never lets more through than the
   * limit: the admissions that still count (a refunded take counts as never made) stay within
   * capacity + floor(W * rate) in every window. Giving back n*T whole instead fails this (the
   * review's interleaving: 11 in half a second at 10 per 10 s).
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void refundLater_randomSchedules_countedAdmissionsWithinTheBound(int shape) {
    Policy policy = switch (shape) {
      case 0 -> Policy.of(Limit.perSecond(10).withCapacity(5));
      case 1 -> Policy.of(Limit.perSecond(7).withCapacity(3));
      default -> Policy.of(Limit.perSecond(7).withCapacity(4), Limit.perMinute(30));
    };
    Limit first = policy.limits().get(0);
    long periodNanos = first.refillPeriod().toNanos();
    SplittableRandom random = new SplittableRandom(7 + shape);
    for (int run = 0; run < 40; run++) {
      ManualTicker t = new ManualTicker(random.nextLong());
      TokenBucket b = TokenBucket.of(policy, t);
      long start = t.read();
      java.util.List<long[]> takes = new java.util.ArrayList<>(); // {at, n, refunded 0/1}
      java.util.ArrayDeque<long[]> out = new java.util.ArrayDeque<>();
      for (int step = 0; step < 300; step++) {
        t.advance(Duration.ofNanos(random.nextLong(150_000_000L)));
        long now = t.read() - start;
        if (!out.isEmpty() && random.nextInt(3) == 0) {
          long[] o = out.poll();
          b.refund(o[1], Duration.ofNanos(now - o[0]));
          o[2] = 1;
        }
        long n = 1 + random.nextLong(policy.maxPermitsPerRequest());
        if (b.tryAcquire(n)) {
          long[] take = {now, n, 0};
          takes.add(take);
          if (random.nextBoolean()) {
            out.add(take);
          }
        }
      }
      takes.removeIf(take -> take[2] == 1);
      for (int i = 0; i < takes.size(); i++) {
        long counted = 0;
        for (int j = i; j < takes.size(); j++) {
          counted += takes.get(j)[1];
          long w = takes.get(j)[0] - takes.get(i)[0];
          long bound = first.capacity()
              + java.math.BigInteger.valueOf(w).multiply(java.math.BigInteger.valueOf(
                  first.refillPermits())).divide(java.math.BigInteger.valueOf(periodNanos))
                  .longValueExact();
          assertThat(counted).as("run %d window %d..%d", run, i, j).isLessThanOrEqualTo(bound);
        }
      }
    }
  }

  @Test
  void refund_moreThanTaken_cappedAtFull_neverMints() {
    ManualTicker t = new ManualTicker();
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(5)), t);
    assertThat(b.tryAcquire(2)).isTrue();
    b.refund(5, Duration.ZERO);
    assertThat(b.availablePermits()).isEqualTo(5);
    assertThat(b.tryAcquire(5)).isTrue();
    assertThat(b.tryAcquire(1)).isFalse();
  }

  @Test
  void refund_badInput_refusedNamingValueAndBound() {
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(5),
        Limit.perMinute(3)), new ManualTicker());
    assertThatThrownBy(() -> b.refund(0, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("permits to refund (0)").hasMessageContaining("from 1 to 3");
    assertThatThrownBy(() -> b.refund(4, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("permits to refund (4)").hasMessageContaining("from 1 to 3");
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2)).build()) {
      assertThatThrownBy(() -> limiter.refund("k", -1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("permits to refund (-1)").hasMessageContaining("from 1 to 2");
      assertThatThrownBy(() -> limiter.refund(null, 1, Duration.ZERO)).isInstanceOf(NullPointerException.class);
    }
  }

  @Test
  void limiterRefund_storeDownOrClosed_nothingGivenBackAndSaysSo() {
    ManualTicker t = new ManualTicker();
    SwitchableStoreFactory store = SwitchableStoreFactory.create();
    int[] errors = new int[1];
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perMinute(2)).ticker(t).store(store)
        .listener(new RateLimitListener() {
          @Override
          public void onDecision(String l, boolean allowed, Decision.Source s, long nanos) {}

          @Override
          public void onBackendError(String l, Throwable error) {
            errors[0]++;
          }
        }).build();
    assertThat(limiter.tryAcquire("k", 2)).isTrue();
    store.down().set(true);
    assertThat(limiter.refund("k", 2, Duration.ZERO)).isFalse();
    assertThat(errors[0]).isEqualTo(1);
    store.down().set(false);
    assertThat(limiter.availablePermits("k")).as("nothing was given back").isZero();
    assertThat(limiter.refund("k", 2, Duration.ZERO)).isTrue();
    assertThat(limiter.availablePermits("k")).isEqualTo(2);
    limiter.close();
    assertThat(limiter.refund("k", 1, Duration.ZERO)).isFalse();
  }
}
