package dev.sluice.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.Policy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The engines' side of retirement: a retired holder takes no decision and is never written
 * again; retirement happens only from a state judged full (or evictable, not throttled); the
 * sentinel cannot be produced by the arithmetic.
 */
class EvictionProtocolTest {

  private static final long MS = 1_000_000L;

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10)), // LongEngine
        Policy.of(Limit.perSecond(7).withCapacity(10)), // GeneralEngine, fractional
        Policy.of(Limit.perSecond(10), Limit.perMinute(600))); // GeneralEngine, two limits
  }

  @ParameterizedTest
  @MethodSource("policies")
  void retire_fullBucket_everyPathThenSeesItRetiredAndWritesNothing(Policy policy) {
    Engine engine = Engine.of(policy);
    long now = 1_000 * MS;
    Holder h = engine.newHolder(now);
    assertThat(engine.evictionRank(h, now)).isZero();

    assertThat(engine.retire(h, now, 0)).isTrue();

    Object state = snapshot(h);
    assertThat(engine.take(h, now, 1, false)).isNull();
    assertThat(engine.take(h, now, 1_000, false)).isNull(); // above the capacity
    assertThat(engine.take(h, now, 1, true)).isNull();
    assertThat(engine.take(h, now, 1_000, true)).isNull();
    assertThat(engine.available(h, now + 10 * 60_000 * MS)).isEqualTo(-1);
    assertThat(engine.available(h, now - 10 * 60_000 * MS)).isEqualTo(-1);
    assertThat(engine.evictionRank(h, now)).isEqualTo(-1);
    assertThat(engine.isFull(h, now)).isTrue();
    assertThat(engine.nanosUntilFull(h, now)).isZero();
    assertThat(engine.retire(h, now, Long.MAX_VALUE)).isFalse();
    assertThat(snapshot(h)).isEqualTo(state);
  }

  @ParameterizedTest
  @MethodSource("policies")
  void retire_notFullOrThrottled_refusedAndTheBucketStillWorks(Policy policy) {
    Engine engine = Engine.of(policy);
    long now = -3 * MS;
    Holder h = engine.newHolder(now);
    assertThat(engine.take(h, now, 3, false)).isSameAs(Engine.TAKEN); // 7 of 10 left
    long rank = engine.evictionRank(h, now);
    assertThat(rank).isPositive();

    assertThat(engine.retire(h, now, 0)).as("not full").isFalse();
    assertThat(engine.retire(h, now, rank - 1)).as("further from full than allowed").isFalse();
    assertThat(engine.take(h, now, 3, false)).isSameAs(Engine.TAKEN); // 4 of 10: throttled
    assertThat(engine.evictionRank(h, now)).isEqualTo(-1);
    assertThat(engine.retire(h, now, Long.MAX_VALUE)).as("throttled").isFalse();

    assertThat(engine.available(h, now)).isEqualTo(4);
    assertThat(engine.take(h, now, 4, true).allowed()).isTrue();
    assertThat(engine.take(h, now, 1, false)).isSameAs(Engine.REFUSED);
  }

  @ParameterizedTest
  @MethodSource("policies")
  void evictionRank_halfCapacityBoundary_throttledBelowHalf(Policy policy) {
    Engine engine = Engine.of(policy);
    long now = 0;
    Holder atHalf = engine.newHolder(now);
    engine.take(atHalf, now, 5, false);
    Holder belowHalf = engine.newHolder(now);
    engine.take(belowHalf, now, 6, false);

    assertThat(engine.evictionRank(atHalf, now)).isPositive();
    assertThat(engine.evictionRank(belowHalf, now)).isEqualTo(-1);
    assertThat(engine.retire(atHalf, now, Long.MAX_VALUE)).isTrue();
  }

  @Test
  void newHolder_emptyInstantWouldBeTheSentinel_storedTwoNanosecondsLater() {
    Engine engine = Engine.of(Policy.of(Limit.perSecond(10)));
    long fill = Duration.ofSeconds(1).toNanos();
    long now = Holder.RETIRED_BITS + fill; // a new bucket's empty instant: now - fill

    Holder h = engine.newHolder(now);

    // RETIRED_BITS + 1 is the moved sentinel: the next live value is + 2
    assertThat(((LongHolder) h).emptyAt).isEqualTo(Holder.RETIRED_BITS + 2);
    assertThat(engine.available(h, now)).isEqualTo(9); // two nanoseconds short of the tenth
    assertThat(engine.take(h, now, 9, false)).isSameAs(Engine.TAKEN);
  }

  @Test
  void acquire_nextInstantWouldBeTheSentinel_storedTwoNanosecondsLaterAndStillLive() {
    Engine engine = Engine.of(Policy.of(Limit.perSecond(10)));
    long interval = 100 * MS;
    long now = Holder.RETIRED_BITS;
    Holder h = engine.newHolder(now); // E = now - 1 s
    assertThat(engine.take(h, now, 5, false)).isSameAs(Engine.TAKEN); // E = now - 500 ms

    // E + 5 intervals = now = the sentinel's value
    assertThat(engine.take(h, now, 5, true).allowed()).isTrue();

    assertThat(((LongHolder) h).emptyAt).isEqualTo(Holder.RETIRED_BITS + 2);
    assertThat(engine.take(h, now + interval + 1, 1, false)).isSameAs(Engine.REFUSED);
    assertThat(engine.take(h, now + interval + 2, 1, false)).isSameAs(Engine.TAKEN);
  }

  @Test
  void acquire_nextInstantWouldBeTheMovedSentinel_storedOneNanosecondLaterAndStillLive() {
    Engine engine = Engine.of(Policy.of(Limit.perSecond(10)));
    long now = Holder.MOVED_BITS;
    Holder h = engine.newHolder(now); // E = now - 1 s
    assertThat(engine.take(h, now, 5, false)).isSameAs(Engine.TAKEN);

    assertThat(engine.take(h, now, 5, true).allowed()).isTrue(); // E + 5 intervals = the sentinel

    assertThat(((LongHolder) h).emptyAt).isEqualTo(Holder.MOVED_BITS + 1);
    assertThat(h.moved()).isFalse();
    assertThat(engine.evictionRank(h, now)).isEqualTo(-1); // live, and throttled
  }

  @Test
  void available_fullBucketReadWhereTheSentinelWouldBeItsEmptyInstant_staysLive() {
    Engine engine = Engine.of(Policy.of(Limit.perSecond(10)));
    long fill = Duration.ofSeconds(1).toNanos();
    Holder h = engine.newHolder(0);
    long now = Holder.RETIRED_BITS + fill; // a path that records the reading may write now - fill

    assertThat(engine.available(h, now)).isBetween(9L, 10L);
    assertThat(engine.take(h, now, 11, true)).isNotNull(); // above the capacity: records too

    assertThat(Holder.dead(((LongHolder) h).emptyAt)).isFalse();
    assertThat(engine.evictionRank(h, now)).isNotNegative();
    assertThat(engine.take(h, now, 9, false)).isSameAs(Engine.TAKEN);
  }

  private static Object snapshot(Holder h) {
    return h instanceof LongHolder l ? (Object) l.emptyAt : (Object) ((PartsHolder) h).emptyAtParts;
  }
}
