package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/**
 * Bad input to the waiting API: clear errors naming the value and the bound, or definite
 * refusals at once; never a wait that cannot end. And what the failure modes answer.
 */
class WaitingBadInputTest {

  private final ManualTicker ticker = new ManualTicker(42);
  private final TokenBucket bucket =
      TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(5)), ticker);
  private final RateLimiter<String> limiter =
      RateLimiter.builder(Limit.perSecond(10).withCapacity(5)).ticker(ticker).build();

  @Test
  void negativeWait_refusedNamingTheValueAndTheBound() {
    Duration minus = Duration.ofNanos(-1);
    assertThatThrownBy(() -> bucket.reserve(1, minus)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxWait (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> bucket.acquire(1, minus))
        .hasMessage("timeout (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> bucket.acquireAsync(1, minus))
        .hasMessage("maxWait (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> limiter.reserve("k", 1, minus))
        .hasMessage("maxWait (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> limiter.acquire("k", 1, minus))
        .hasMessage("timeout (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> limiter.acquireAsync("k", 1, minus))
        .hasMessage("maxWait (PT-0.000000001S) must be at least 0");
    assertThat(limiter.availablePermits("k")).as("nothing taken").isEqualTo(5);
  }

  @Test
  void nullsAndNonPositivePermits_refused() {
    assertThatThrownBy(() -> bucket.reserve(1, null)).isInstanceOf(NullPointerException.class)
        .hasMessage("maxWait");
    assertThatThrownBy(() -> limiter.reserve(null, 1, Duration.ZERO))
        .isInstanceOf(NullPointerException.class).hasMessage("key");
    assertThatThrownBy(() -> limiter.acquire(null, 1)).hasMessage("key");
    assertThatThrownBy(() -> limiter.acquire("k", 1, null)).hasMessage("timeout");
    assertThatThrownBy(() -> bucket.reserve(0, Duration.ZERO))
        .hasMessage("permits (0) must be at least 1");
    assertThatThrownBy(() -> limiter.acquire("k", -1)).hasMessage("permits (-1) must be at least 1");
  }

  @Test
  void aboveTheCapacity_definiteRefusalAtOnce_noDueInstant() {
    Reservation r = limiter.reserve("k", 6, ChronoUnit.FOREVER.getDuration());
    assertThat(r.granted()).isFalse();
    assertThat(r.exceedsCapacity()).isTrue();
    assertThat(r.cancel()).isFalse();
    assertThatThrownBy(r::delay).isInstanceOf(IllegalStateException.class)
        .hasMessage("no wait is enough: 6 permits exceed a capacity of the policy");
    assertThat(limiter.acquire("k", 6)).isFalse();
    assertThat(limiter.acquireAsync("k", 6, Duration.ofDays(1)).toCompletableFuture())
        .isCompletedWithValue(false);
    assertThat(limiter.availablePermits("k")).isEqualTo(5);
  }

  @Test
  void hugeWait_cutTo73Years_noOverflow() {
    Reservation r = bucket.reserve(5, ChronoUnit.FOREVER.getDuration());
    assertThat(r.granted()).isTrue();
    for (int i = 0; i < 1000; i++) {
      assertThat(bucket.reserve(5, ChronoUnit.FOREVER.getDuration()).delay())
          .isEqualTo(Duration.ofMillis(500L * (i + 1)));
    }
  }

  @Test
  void storeThatCannotReserve_saysSo() {
    RateStoreFactory plain = new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker t) {
        RateStore<K> inner = InMemoryStore.factory().create(name, policy, t);
        return new RateStore<K>() {
          @Override
          public Decision decide(K key, Policy p, long permits) {
            return inner.decide(key, p, permits);
          }

          @Override
          public long availablePermits(K key, Policy p) {
            return inner.availablePermits(key, p);
          }

          @Override
          public long size() {
            return inner.size();
          }

          @Override
          public void close() {
            inner.close();
          }
        };
      }
    };
    RateLimiter<String> l = RateLimiter.builder(Limit.perSecond(1)).store(plain).build();
    assertThatThrownBy(() -> l.reserve("k", 1, Duration.ZERO))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("cannot reserve permits");
  }

  @Test
  void failureModes_storeDown_openGrantsClosedRefusesLocalReserves() {
    RateStoreFactory down = new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker t) {
        return new RateStore<K>() {
          @Override
          public Decision decide(K key, Policy p, long permits) {
            throw new StoreUnavailableException("down");
          }

          @Override
          public Reservation reserve(K key, Policy p, long permits, long maxWaitNanos) {
            throw new StoreUnavailableException("down");
          }

          @Override
          public long availablePermits(K key, Policy p) {
            throw new StoreUnavailableException("down");
          }

          @Override
          public long size() {
            return -1;
          }

          @Override
          public void close() {}
        };
      }
    };
    Limit limit = Limit.perSecond(10).withCapacity(1);
    RateLimiter<String> open = RateLimiter.builder(limit).ticker(ticker).store(down)
        .failureMode(FailureMode.OPEN).build();
    RateLimiter<String> closed = RateLimiter.builder(limit).ticker(ticker).store(down)
        .failureMode(FailureMode.CLOSED).build();
    RateLimiter<String> local = RateLimiter.builder(limit).ticker(ticker).store(down)
        .failureMode(FailureMode.LOCAL).build();
    Duration s = Duration.ofSeconds(1);
    assertThat(open.reserve("k", 1, s).delay()).isEqualTo(Duration.ZERO);
    assertThat(open.reserve("k", 1, s).delay()).as("nothing counted").isEqualTo(Duration.ZERO);
    Reservation refused = closed.reserve("k", 1, s);
    assertThat(refused.granted()).isFalse();
    assertThatThrownBy(refused::delay).isInstanceOf(IllegalStateException.class);
    assertThat(closed.acquire("k", 1)).isFalse();
    assertThat(local.reserve("k", 1, s).delay()).isEqualTo(Duration.ZERO);
    assertThat(local.reserve("k", 1, s).delay()).as("this node's bucket")
        .isEqualTo(Duration.ofMillis(100));
    local.close();
    assertThat(local.reserve("k", 1, s).granted()).as("closed: LOCAL refuses").isFalse();
  }
}
