package dev.sluice.http;

import dev.sluice.Reservation;
import dev.sluice.Ticker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * What an admitted request that must wait holds: the reservations of its queueing rules, the
 * permits its other rules took, and the instant it may go on. Cancelling before then gives
 * everything back (the reservations by their cancel rule, the decisions by a refund), so an
 * abandoned request takes from no rule, as a refused one.
 */
final class Waits {

  private final HttpLimiter limiter;
  private final Ticker ticker;
  /** The HTTP limiter's ticker before anything was taken (refunds measure from here). */
  private final long start;
  /** Every outcome holding permits or a reservation. */
  private final Outcome[] held;
  private final Reservation[] reservations;
  private final long waitNanos;
  /** The HTTP limiter's ticker once every reservation was made: due at {@code madeAt + waitNanos}. */
  private final long madeAt;
  private final Charges charges;
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final CompletableFuture<Boolean> due = new CompletableFuture<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  Waits(HttpLimiter limiter, Ticker ticker, long start, Outcome[] held,
      Reservation[] reservations, long waitNanos, long madeAt, Charges charges) {
    this.limiter = limiter;
    this.ticker = ticker;
    this.start = start;
    this.held = held;
    this.reservations = reservations;
    this.waitNanos = waitNanos;
    this.madeAt = madeAt;
    this.charges = charges;
  }

  long waitNanos() {
    return waitNanos;
  }

  /** Nanoseconds left until due, by the HTTP limiter's ticker (at most 0 once due). */
  long leftNanos() {
    return madeAt + waitNanos - ticker.read();
  }

  boolean await() {
    for (;;) {
      long left = leftNanos();
      if (left <= 0) {
        return !cancelled.get();
      }
      if (cancelled.get()) {
        return false;
      }
      if (Thread.currentThread().isInterrupted()) {
        cancel();
        return false;
      }
      LockSupport.parkNanos(left);
    }
  }

  CompletionStage<Boolean> whenDue() {
    if (scheduled.compareAndSet(false, true)) {
      CompletableFuture<?>[] each = new CompletableFuture<?>[reservations.length];
      for (int i = 0; i < each.length; i++) {
        each[i] = reservations[i].whenDue().toCompletableFuture();
      }
      CompletableFuture.allOf(each).whenComplete((v, failure) -> {
        if (failure != null) {
          due.completeExceptionally(failure);
        } else {
          due.complete(!cancelled.get());
        }
      });
      due.whenComplete((ok, failure) -> {
        if (failure != null) {
          cancel(); // the caller cancelled (or failed) the future before it was due
        }
      });
    }
    return due;
  }

  boolean cancel() {
    if (leftNanos() <= 0 || !cancelled.compareAndSet(false, true)) {
      return false;
    }
    if (charges != null) {
      charges.claim();
    }
    boolean all = true;
    for (Outcome o : held) {
      if (o.reservation != null) {
        all &= o.reservation.cancel();
      } else if (o.holdsPermits()) {
        limiter.giveBack(o, limiter.heldSince(start));
      }
    }
    due.complete(false);
    return all;
  }
}
