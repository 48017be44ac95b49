package dev.sluice.redis;

import dev.sluice.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One operation on one key in flight: a take, a look or a refund. Its {@link #result}
 * completes exactly once: with what {@link Outcome} makes of the script's reply for the key, or
 * with a {@link StoreUnavailableException} (the breaker, the connection, the deadline, an error).
 * The first completion counts, in the store's {@link Stats} and its circuit breaker; a reply that
 * arrives after the deadline is still handed to the outcome (what it says is true), but the
 * caller keeps its failure.
 *
 * @param <T> what the caller gets
 */
final class Call<T> implements Deadlines.Pending {

  /** What a call makes of the script's reply for its key. */
  @FunctionalInterface
  interface Outcome<T> {
    /**
     * The call's result. Runs on the thread that received the reply, before the caller can see
     * the result, and for every reply, also one that came after the deadline.
     *
     * @param reply the script's reply for the key
     * @param sentAt when the command was sent, on the deny cache's clock
     */
    T of(KeyReply reply, long sentAt);

    /**
     * Runs once if the call fails once started (its deadline, an error, a reply it could not
     * read): Redis may or may not have run it.
     */
    default void failed() {}
  }

  final CompletableFuture<T> result = new CompletableFuture<>();
  final byte[] redisKey;
  final byte[][] keyArgs;
  private final Calls owner;
  private final Outcome<T> outcome;
  private final long begun = System.nanoTime();
  /** Whether its command went out: a deadline missed after that may hide a run in Redis. */
  volatile boolean sent;
  volatile Batcher.Batch batch;

  Call(Calls owner, byte[] redisKey, byte[][] keyArgs, Outcome<T> outcome) {
    this.owner = owner;
    this.redisKey = redisKey;
    this.keyArgs = keyArgs;
    this.outcome = outcome;
  }

  @Override
  public long expiresAt() {
    return begun + owner.deadlineNanos;
  }

  @Override
  public boolean isDone() {
    return result.isDone();
  }

  /** The deadline passed (seen by the deadline thread, or the sync caller's wait ran out). */
  @Override
  public void expire() {
    if (fail(new StoreUnavailableException("no answer from " + owner.connector
        + " within the deadline of " + Duration.ofNanos(owner.deadlineNanos).toMillis() + " ms"))) {
      if (sent) {
        owner.stats.timeouts.incrementAndGet();
      }
      Batcher.Batch b = batch;
      if (b != null && b.allDone()) {
        b.cancel();
      }
    }
  }

  /** The script answered for this call's key. */
  void succeed(KeyReply reply, long sentAt) {
    T value;
    try {
      value = outcome.of(reply, sentAt);
    } catch (RuntimeException e) {
      fail(new StoreUnavailableException("unexpected reply from " + owner.connector + ": " + e, e));
      return;
    }
    if (result.complete(value)) {
      owner.succeeded();
    }
  }

  /** Fails the call unless it completed already; returns whether this failed it. */
  boolean fail(StoreUnavailableException e) {
    if (result.completeExceptionally(e)) {
      owner.failed();
      outcome.failed();
      return true;
    }
    return false;
  }

  /** Waits for the result within the deadline, on the caller's thread. */
  T await() {
    long left = owner.deadlineNanos - (System.nanoTime() - begun);
    try {
      return result.get(Math.max(left, 0), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      expire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(new StoreUnavailableException("interrupted while waiting for " + owner.connector, e));
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
    try {
      return result.join();
    } catch (CompletionException | CancellationException e) {
      throw rethrow(e.getCause() != null ? e.getCause() : e);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof StoreUnavailableException) {
      return (StoreUnavailableException) t;
    }
    return new StoreUnavailableException(String.valueOf(t), t);
  }
}
