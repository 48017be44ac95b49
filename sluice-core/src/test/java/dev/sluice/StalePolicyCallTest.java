package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A call that read a limiter's policy just before a change and reaches the store after calls
 * under the new one (a stale call) is decided under the new policy: it never converts the key
 * back, which would restart a limit the older policy lacks when the key converts forward again
 * (found by hand: a new 5-per-day limit admitted 10 in a day). The stale call is made here by
 * calling the limiter's store with the old policy after the change.
 */
class StalePolicyCallTest {

  static final Policy PER_SECOND = Policy.of(Limit.perSecond(10));
  static final Policy PER_SECOND_AND_DAY =
      Policy.of(Limit.perSecond(10), Limit.perDay(5).withCapacity(5));

  /** The limiter's store, captured when it is built. */
  static final class Capturing implements RateStoreFactory {
    final AtomicReference<RateStore<?>> store = new AtomicReference<>();

    @Override
    public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
      RateStore<K> s = InMemoryStore.factory().create(name, policy, ticker);
      store.set(s);
      return s;
    }

    @SuppressWarnings("unchecked")
    <K> RateStore<K> get() {
      return (RateStore<K>) store.get();
    }
  }

  @Test
  void updatePolicy_staleCallAfterTheChange_decidedUnderTheNewPolicy_dailyLimitHolds() {
    ManualTicker ticker = new ManualTicker(0);
    Capturing factory = new Capturing();
    RateLimiter<String> limiter = RateLimiter.builder(PER_SECOND).store(factory).ticker(ticker)
        .build();
    RateStore<String> store = factory.get();
    assertThat(limiter.decide("k", 1).allowed()).isTrue();
    limiter.updatePolicy(PER_SECOND_AND_DAY);
    for (int i = 0; i < 5; i++) {
      ticker.advance(Duration.ofSeconds(1));
      assertThat(limiter.decide("k", 1).allowed()).as("day permit %d", i + 1).isTrue();
    }
    ticker.advance(Duration.ofSeconds(1));
    // the stale call: the old policy would admit (10 per second), the new one's day is spent
    Decision stale = store.decide("k", PER_SECOND, 1);
    assertThat(stale.allowed()).isFalse();
    assertThat(stale.limit()).isEqualTo(5);
    // and the day limit was not restarted by a conversion back and forth
    for (int i = 0; i < 10; i++) {
      ticker.advance(Duration.ofSeconds(1));
      assertThat(limiter.decide("k", 1).allowed()).isFalse();
    }
    assertThat(store.availablePermits("k", PER_SECOND)).isZero();
  }

  @Test
  void plansUpdate_staleCallAfterTheChange_decidedUnderTheNewPolicy() {
    ManualTicker ticker = new ManualTicker(0);
    Capturing factory = new Capturing();
    Plans<String> plans = Plans.<String>builder().plan("pro", PER_SECOND)
        .plan("free", Policy.of(Limit.perSecond(1))).assign(k -> "pro").build();
    RateLimiter<String> limiter = RateLimiter.builder(plans).store(factory).ticker(ticker)
        .build();
    RateStore<String> store = factory.get();
    assertThat(limiter.decide("k", 1).allowed()).isTrue();
    plans.update("pro", PER_SECOND_AND_DAY);
    for (int i = 0; i < 5; i++) {
      ticker.advance(Duration.ofSeconds(1));
      assertThat(limiter.decide("k", 1).allowed()).isTrue();
    }
    ticker.advance(Duration.ofSeconds(1));
    assertThat(store.decide("k", PER_SECOND, 1).allowed()).isFalse();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(limiter.decide("k", 1).allowed()).isFalse();
  }

  @Test
  void updatePolicy_backToAnEarlierPolicy_thatPolicyIsCurrentAgain() {
    ManualTicker ticker = new ManualTicker(0);
    RateLimiter<String> limiter = RateLimiter.builder(PER_SECOND).ticker(ticker).build();
    limiter.updatePolicy(PER_SECOND_AND_DAY);
    assertThat(limiter.decide("k", 1).limit()).isEqualTo(5);
    limiter.updatePolicy(PER_SECOND);
    // the day limit is gone: the key is decided under one limit of 10 again
    Decision d = limiter.decide("k", 1);
    assertThat(d.limit()).isEqualTo(10);
    assertThat(d.remaining()).isEqualTo(8);
  }
}
