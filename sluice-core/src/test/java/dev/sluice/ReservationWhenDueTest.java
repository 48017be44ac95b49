package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Reservation#whenDue()}: the shared scheduler completes it only once the reservation's
 * own ticker (here a manual one, checked again whenever the scheduler's wait is over) reaches the
 * due instant; a refusal completes false at once; cancelling the future cancels the reservation.
 */
class ReservationWhenDueTest {

  @Test
  void whenDue_completesTrueOnlyOnceItsTickerReachesTheDueInstant() throws Exception {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 20_000_000L);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(100).withCapacity(1)), t);
    assertThat(b.reserve(1, Duration.ZERO).whenDue().toCompletableFuture().getNow(false))
        .as("due at once").isTrue();
    Reservation r = b.reserve(1, Duration.ofSeconds(1));
    CompletableFuture<Boolean> due = r.whenDue().toCompletableFuture();
    assertThat(due).as("the manual ticker has not moved").isNotDone();
    t.advance(10_000_000L - 1);
    assertThat(due).as("1 ns before").isNotDone();
    t.advance(1);
    assertThat(due.get(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void whenDue_refused_falseAtOnce_cancelledFuture_cancelsTheReservation() {
    ManualTicker t = new ManualTicker(42);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(100).withCapacity(1)), t);
    b.reserve(1, Duration.ZERO);
    assertThat(b.reserve(1, Duration.ofMillis(5)).whenDue().toCompletableFuture().getNow(true))
        .as("would wait 10 ms").isFalse();
    Reservation r = b.reserve(1, Duration.ofSeconds(1));
    r.whenDue().toCompletableFuture().cancel(false);
    assertThat(b.reserve(1, Duration.ofSeconds(1)).delay()).as("its slot given back")
        .isEqualTo(Duration.ofMillis(10));
  }
}
