package dev.sluice.redis;

import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The life of one store's calls, from the door to the answer. A call is refused at once, without
 * touching Redis, when the store is closed, its circuit breaker is open or there is no connection
 * (then a reconnection is attempted in the background); otherwise it is counted in flight, given
 * its deadline (asynchronous calls are watched by the connection's {@link Deadlines} thread,
 * synchronous ones by their caller's bounded wait) and handed to the {@link Batcher}. Every call
 * ends, exactly once, in {@link #succeeded()} or {@link #failed()}, which feed the breaker.
 * {@link #close()} stops the door and waits, up to one deadline, for the calls in flight.
 */
final class Calls {

  final Connector connector;
  final long deadlineNanos;
  final Stats stats;
  private final String store;
  private final CircuitBreaker breaker;
  private final StateWatch watch;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();

  Calls(String store, Connector connector, long deadlineNanos, CircuitBreaker breaker,
      Stats stats, StateWatch watch) {
    this.watch = watch;
    this.store = store;
    this.connector = connector;
    this.deadlineNanos = deadlineNanos;
    this.breaker = breaker;
    this.stats = stats;
  }

  /**
   * Starts one operation on {@code key}'s bucket under {@code lane}'s policy, {@code keyArgs}
   * being its part of the script's
   * arguments. An asynchronous call's failures all arrive through its result; a synchronous
   * caller waits with {@link Call#await()}.
   *
   * @throws StoreUnavailableException if the call cannot be made (closed, breaker open, no
   *     connection)
   */
  <T> Call<T> start(Lane<?> lane, Object key, byte[][] op, boolean async,
      Call.Outcome<T> outcome) {
    if (closed.get()) {
      throw new StoreUnavailableException("the Redis store " + store + " is closed");
    }
    if (!breaker.allow()) {
      stats.failures.incrementAndGet();
      throw new StoreUnavailableException(
          "the circuit breaker of the Redis store " + store + " is open");
    }
    RedisScriptingAsyncCommands<byte[], byte[]> commands = connector.commands();
    if (commands == null) {
      breaker.onFailure();
      stats.failures.incrementAndGet();
      throw new StoreUnavailableException("not connected to " + connector);
    }
    watch.onCall();
    Call<T> call = new Call<>(this, lane, key, op, outcome, commands);
    inFlight.incrementAndGet();
    if (async) {
      Deadlines deadlines = connector.deadlines();
      if (deadlines == null) {
        call.fail(new StoreUnavailableException("the Redis store " + store + " is closed"));
        return call;
      }
      deadlines.add(deadlineNanos, call);
    }
    call.send();
    return call;
  }

  void succeeded() {
    breaker.onSuccess();
    inFlight.decrementAndGet();
  }

  void failed() {
    breaker.onFailure();
    stats.failures.incrementAndGet();
    inFlight.decrementAndGet();
  }

  /**
   * Stops taking calls (later ones throw {@link StoreUnavailableException}) and waits up to one
   * deadline for those in flight.
   *
   * @return true for the first close, false if the store was closed already
   */
  boolean close() {
    if (!closed.compareAndSet(false, true)) {
      return false;
    }
    long end = System.nanoTime() + deadlineNanos;
    while (inFlight.get() > 0 && end - System.nanoTime() > 0) {
      LockSupport.parkNanos(100_000L);
    }
    return true;
  }
}
