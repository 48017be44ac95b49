package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The README's waiting example, as written, on a manual ticker (parks advance it). */
class ReadmeWaitingTest {

  @Test
  void readmeWaiting_behavesAsTheReadmeSays() {
    ManualTicker ticker = new ManualTicker(0);
    Parker parker = ticker::advance;
    Scheduler scheduler = Scheduler.manual(ticker);
    String tenant = "t";
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(1))
        .ticker(ticker).parker(parker).scheduler(scheduler).build();
    // --- README waiting (the README builds without ticker, parker and scheduler) ---
    TokenBucket outbound = TokenBucket.of(Policy.of(Limit.perSecond(100)), ticker, parker,
        scheduler);
    outbound.acquire(1);                                   // parks until due, like Guava's acquire()

    Reservation r = limiter.reserve(tenant, 1, Duration.ofMillis(200));
    // --- (checks between the lines) ---
    assertThat(r.granted()).isTrue();
    assertThat(r.delay()).isEqualTo(Duration.ZERO);
    Reservation second = limiter.reserve(tenant, 1, Duration.ofMillis(200));
    assertThat(second.granted()).isTrue();
    assertThat(second.delay()).isEqualTo(Duration.ofMillis(100));
    assertThat(second.cancel()).as("the latest, not yet due: given back").isTrue();
    // --- README waiting, continued ---
    CompletableFuture<Boolean> waiter =
        limiter.acquireAsync(tenant, 1, Duration.ofSeconds(2)).toCompletableFuture();
    // --- end ---
    assertThat(waiter).isNotDone();
    ticker.advance(Duration.ofMillis(99));
    scheduler.runDue();
    assertThat(waiter).isNotDone();
    ticker.advance(Duration.ofMillis(1));
    scheduler.runDue();
    assertThat(waiter).isCompletedWithValue(true);
  }
}
