package dev.sluice;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The waiting that {@link TokenBucket} and {@link RateLimiter} share: blocking and async. */
final class Waiting {

  private Waiting() {}

  /**
   * Waits until {@code r} is due by its ticker, parking in a loop (a park may return early).
   * Interruption while waiting cancels the reservation (giving back what the cancel rule allows)
   * and returns false with the interrupt flag still set; a reservation already due returns true
   * whatever the flag.
   *
   * @return whether the permits are the caller's: false if refused or interrupted
   */
  static boolean await(Reservation r, Parker parker) {
    if (!r.granted()) {
      return false;
    }
    Ticker ticker = r.ticker();
    long due = r.due();
    for (;;) {
      long left = due - ticker.read();
      if (left <= 0) {
        return true;
      }
      if (Thread.currentThread().isInterrupted()) {
        r.cancel();
        return false;
      }
      parker.park(left);
    }
  }

  /**
   * Completes with true when {@code r} is due (on the scheduler's thread), at once with false if
   * it was refused. Cancelling the returned future before then cancels the reservation.
   */
  static CompletionStage<Boolean> async(Reservation r, Scheduler scheduler) {
    if (!r.granted()) {
      return CompletableFuture.completedFuture(false);
    }
    if (r.due() - r.reservedAt() <= 0) {
      return CompletableFuture.completedFuture(true);
    }
    CompletableFuture<Boolean> f = scheduler.schedule(r);
    f.whenComplete((granted, failure) -> {
      if (failure != null) {
        r.cancel(); // cancelled or completed exceptionally by the caller before it was due
      }
    });
    return f;
  }
}
