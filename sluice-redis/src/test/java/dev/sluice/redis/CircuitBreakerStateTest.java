package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisStore.BreakerState;
import org.junit.jupiter.api.Test;

/** The breaker's states as {@link RedisStore#breakerState()} reports them, without Redis. */
class CircuitBreakerStateTest {

  @Test
  void closed_opensAtTheThreshold_probeIsHalfOpen_successCloses() {
    CircuitBreaker b = new CircuitBreaker(2, 0); // open for 0 ns: the next call is the probe
    assertThat(b.state()).isEqualTo(BreakerState.CLOSED);
    b.onFailure();
    assertThat(b.state()).as("one failure of two").isEqualTo(BreakerState.CLOSED);
    b.onFailure();
    assertThat(b.state()).isEqualTo(BreakerState.OPEN);
    assertThat(b.allow()).as("the probe").isTrue();
    assertThat(b.state()).isEqualTo(BreakerState.HALF_OPEN);
    assertThat(b.allow()).as("only one probe").isFalse();
    b.onFailure();
    assertThat(b.state()).as("the probe failed").isEqualTo(BreakerState.OPEN);
    assertThat(b.allow()).isTrue();
    b.onSuccess();
    assertThat(b.state()).isEqualTo(BreakerState.CLOSED);
  }

  @Test
  void open_staysOpenBeforeItsTime() {
    CircuitBreaker b = new CircuitBreaker(1, Long.MAX_VALUE);
    b.onFailure();
    assertThat(b.allow()).isFalse();
    assertThat(b.state()).isEqualTo(BreakerState.OPEN);
  }
}
