package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The burst bound in every window, not only over whole runs: for the instants at which a key was
 * admitted (by the limiter's ticker, a {@link ManualTicker} driven by bursty random schedules
 * from random start instants, some near {@code Long.MAX_VALUE}), every closed window
 * {@code [t, t + W]} holds at most {@code C + floor(W * rate)} admissions, for W from one
 * nanosecond to ten fill times, and so at most {@code 2C} in any window of length
 * {@code C / rate}. Windows are checked starting at every admission (a window holding the most
 * admissions can always be slid to start at one). The schedules mix silences longer than a fill
 * time (so the bucket starts full again), floods at one instant and steady traffic faster than
 * the rate, and requests of several permits. Each run opens with a flood on the full bucket, and
 * the test asserts that some window holds exactly its bound (the burst is really granted).
 */
class BurstBoundTest {

  static final Limit[] LIMITS = {
      Limit.perSecond(10),
      Limit.of(7, Duration.ofSeconds(1)).withCapacity(5),
      Limit.of(999_983, Duration.ofSeconds(7)).withCapacity(1_000),
      Limit.perMinute(100).withCapacity(20),
      Limit.of(3, Duration.ofNanos(1_500)).withCapacity(4),
  };

  @Test
  void admittedInstants_everyWindow_atMostCapacityPlusRefill() {
    SplittableRandom random = new SplittableRandom(20_261_202);
    for (Limit limit : LIMITS) {
      for (int run = 0; run < 8; run++) {
        long start = run % 2 == 0 ? random.nextLong() : Long.MAX_VALUE - random.nextLong(1L << 40);
        check(limit, start, random);
      }
    }
  }

  private static void check(Limit limit, long start, SplittableRandom random) {
    ManualTicker ticker = new ManualTicker(start);
    RateLimiter<String> limiter = RateLimiter.builder(limit).ticker(ticker).build();
    long fill = limit.fillTime().toNanos();
    long interval = Math.max(1, limit.emissionInterval().toNanos());
    List<Long> admitted = new ArrayList<>();
    // first a flood at one instant on the full bucket: the one-nanosecond window holds C
    for (long i = 0; i < limit.capacity() + 5; i++) {
      if (limiter.tryAcquire("k")) {
        admitted.add(0L);
      }
    }
    for (int i = 0; i < 6_000; i++) {
      int phase = (i / 500) % 4;
      long step = switch (phase) {
        case 0 -> 0; // a flood at one instant
        case 1 -> random.nextLong(interval / 2 + 1); // faster than the rate
        case 2 -> random.nextLong(2 * interval + 1); // around the rate
        default -> i % 500 == 0 ? fill + random.nextLong(fill + 1) : random.nextLong(interval + 1);
      };
      ticker.advance(step);
      long permits = random.nextInt(4) == 0 ? 1 + random.nextLong(Math.min(3, limit.capacity())) : 1;
      long at = ticker.read() - start; // relative: instants near the wrap stay ordered
      if (limiter.tryAcquire("k", permits)) {
        for (long p = 0; p < permits; p++) {
          admitted.add(at);
        }
      }
    }
    long[] t = admitted.stream().mapToLong(Long::longValue).toArray();
    long[] windows = {1, interval - 1, interval, interval + 1, fill / 2, fill - 1, fill, fill + 1,
        2 * fill, 10 * fill, fill + fill / 3};
    boolean reached = false;
    for (long w : windows) {
      if (w < 1) {
        continue;
      }
      long bound = limit.capacity() + refill(limit, w);
      int most = most(t, w);
      assertThat((long) most).as("%s: admissions in a window of %d ns (bound %d)", limit, w, bound)
          .isLessThanOrEqualTo(bound);
      reached |= most == bound;
      if (w == fill) {
        System.out.printf("BURST %s: at most %d in a window of C/rate (bound %d)%n", limit, most,
            bound);
        assertThat((long) most).as("%s: at most 2C in a window of C/rate", limit)
            .isLessThanOrEqualTo(2 * limit.capacity());
      }
    }
    assertThat(reached).as("%s from %d: some window holds exactly its bound", limit, start).isTrue();
  }

  /** {@code floor(w * refillPermits / refillPeriod)}, exactly. */
  private static long refill(Limit limit, long w) {
    return BigInteger.valueOf(w).multiply(BigInteger.valueOf(limit.refillPermits()))
        .divide(BigInteger.valueOf(limit.refillPeriod().toNanos())).longValueExact();
  }

  /** The most instants of sorted {@code t} in one closed window {@code [t_i, t_i + w]}. */
  private static int most(long[] t, long w) {
    int best = 0;
    for (int i = 0, j = 0; i < t.length; i++) {
      while (j < t.length && t[j] - t[i] <= w) {
        j++;
      }
      best = Math.max(best, j - i);
    }
    return best;
  }
}
