package dev.sluice.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.Policy;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A request for a new key decides on a private holder, then publishes it. If the thread stalls
 * in between while another bucket of the same key is created, drained, refilled and retired, the
 * stalled decision must not land on top of that history (found by review; regression test).
 */
class NewKeyPublicationRaceTest {

  private static final long MS = 1_000_000L;

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10)), // LongEngine
        Policy.of(Limit.perSecond(10), Limit.perMinute(600))); // GeneralEngine
  }

  @ParameterizedTest
  @MethodSource("policies")
  void tryAcquire_stalledNewKeyWhileAnotherBucketLivesAndRetires_neverOverAdmits(Policy policy) {
    BucketTable<String> table = new BucketTable<>(new Engines(), policy, 1_000, 16, 0);
    long t0 = 0;
    long tB = t0 + MS;
    long tR = tB + 1_000 * MS; // B's bucket is full again: retired by expiry
    int[] admitted = new int[1];
    table.beforePlace = () -> {
      table.beforePlace = null;
      for (int i = 0; i < 20; i++) {
        admitted[0] += table.take("k", policy, tB, 1, false).allowed() ? 1 : 0;
      }
      assertThat(table.expireAll(tR, false, () -> false)).isEqualTo(1);
    };

    boolean stalled = table.take("k", policy, t0, 5, false).allowed(); // stalls in beforePlace
    admitted[0] += stalled ? 5 : 0;

    for (int i = 0; i < 20; i++) {
      admitted[0] += table.take("k", policy, tR, 1, false).allowed() ? 1 : 0;
    }
    // window [t0, tR] of 1,001 ms at 10/s with a capacity of 10: at most 10 + 10
    assertThat(admitted[0]).isLessThanOrEqualTo(20);
    assertThat(admitted[0]).isGreaterThanOrEqualTo(20); // and nothing lost: exactly the bound
  }

  @ParameterizedTest
  @MethodSource("policies")
  void decide_stalledNewKeyWhileAnotherBucketLivesAndRetires_neverOverAdmits(Policy policy) {
    BucketTable<String> table = new BucketTable<>(new Engines(), policy, 1_000, 16, 0);
    long tB = MS;
    long tR = tB + 1_000 * MS;
    long[] admitted = new long[1];
    table.beforePlace = () -> {
      table.beforePlace = null;
      admitted[0] += table.take("k", policy, tB, 10, true).allowed() ? 10 : 0;
      assertThat(table.expireAll(tR, false, () -> false)).isEqualTo(1);
    };

    boolean stalled = table.take("k", policy, 0, 5, true).allowed(); // stalls in beforePlace
    admitted[0] += stalled ? 5 : 0;
    admitted[0] += table.take("k", policy, tR, 10, true).allowed() ? 10 : 0;

    // window [0, tR] of 1,001 ms at 10/s with a capacity of 10: at most 10 + 10
    assertThat(admitted[0]).isEqualTo(20);
  }
}
