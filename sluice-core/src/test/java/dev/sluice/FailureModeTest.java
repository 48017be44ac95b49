package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.spi.contract.SwitchableStoreFactory;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** What the limiter answers when its store cannot, and after close(). */
class FailureModeTest {

  private final ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 5);
  private final SwitchableStoreFactory stores = SwitchableStoreFactory.create().withBugOn("boom");
  private final AtomicBoolean down = stores.down();

  private RateLimiter<String> limiter(FailureMode mode) {
    return RateLimiter.builder(Limit.perSecond(3)).ticker(ticker).failureMode(mode)
        .store(stores).build();
  }

  @Test
  void decide_storeDownFailOpen_admitsMarkedWithoutCounts() {
    RateLimiter<String> limiter = limiter(FailureMode.OPEN);
    down.set(true);
    for (int i = 0; i < 10; i++) {
      Decision d = limiter.decide("k", 1);
      assertThat(d.allowed()).isTrue();
      assertThat(d.source()).isEqualTo(Decision.Source.FAILURE_OPEN);
    }
    assertThat(limiter.tryAcquire("k")).isTrue();
  }

  @Test
  void decide_storeDownFailClosed_refusesWithoutRetryAfter() {
    RateLimiter<String> limiter = limiter(FailureMode.CLOSED);
    down.set(true);
    Decision d = limiter.decide("k", 1);
    assertThat(d.allowed()).isFalse();
    assertThat(d.source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
    assertThat(d.retryAfter()).isEmpty();
    assertThat(d.canEverSucceed()).isTrue();
    assertThat(limiter.tryAcquire("k")).isFalse();
  }

  @Test
  void decide_storeDownLocal_enforcesThePolicyInMemoryThenStoreResumes() {
    RateLimiter<String> limiter = limiter(FailureMode.LOCAL);
    down.set(true);
    int admitted = 0;
    for (int i = 0; i < 10; i++) {
      Decision d = limiter.decide("k", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.LOCAL_FALLBACK);
      admitted += d.allowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(3);
    down.set(false);
    Decision d = limiter.decide("k", 1);
    assertThat(d.source()).isEqualTo(Decision.Source.STORE);
    assertThat(d.allowed()).isTrue();
  }

  @Test
  void decideAsync_futureFailsWithStoreUnavailable_followsTheMode() {
    RateLimiter<String> limiter = limiter(FailureMode.CLOSED);
    down.set(true);
    Decision d = limiter.decideAsync("k", 1).toCompletableFuture().join();
    assertThat(d.source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
  }

  @Test
  void decideAsync_otherFailure_propagates() {
    RateLimiter<String> limiter = limiter(FailureMode.OPEN);
    assertThatThrownBy(() -> limiter.decideAsync("boom", 1).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void close_thenDecide_answeredByTheModeWithoutTouchingTheStore() {
    for (FailureMode mode : FailureMode.values()) {
      RateLimiter<String> limiter = limiter(mode);
      assertThat(limiter.decide("k", 1).source()).isEqualTo(Decision.Source.STORE);
      limiter.close();
      limiter.close();
      int calls = stores.calls();
      Decision d = limiter.decide("k", 1);
      Decision async = limiter.decideAsync("k", 1).toCompletableFuture().join();
      boolean bool = limiter.tryAcquire("k");
      assertThat(stores.calls()).as(mode.name()).isEqualTo(calls);
      Decision.Source expected = mode == FailureMode.OPEN
          ? Decision.Source.FAILURE_OPEN : Decision.Source.FAILURE_CLOSED;
      assertThat(d.source()).as(mode.name()).isEqualTo(expected);
      assertThat(async.source()).as(mode.name()).isEqualTo(expected);
      assertThat(bool).as(mode.name()).isEqualTo(mode == FailureMode.OPEN);
    }
  }
}
