package dev.sluice.redis;

import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

  /** Conversions one call may make before it gives up (another node keeps moving the state). */
  static final int MAX_CONVERSIONS = 4;
  private static final byte[] NO = {'0'};
  private static final byte[] YES = {'1'};

  final CompletableFuture<T> result = new CompletableFuture<>();
  /** The call's own key, then the other policies' keys of the same key the script looks in. */
  volatile byte[][] redisKeys;
  /** The call's part of ARGV (see bucket.lua): conversion, m, the operation. */
  volatile byte[][] keyArgs;
  private final Calls owner;
  private final Lane<?> lane;
  private final Object key;
  private final byte[] hash;
  private final byte[][] op;
  private final Outcome<T> outcome;
  private final RedisScriptingAsyncCommands<byte[], byte[]> commands;
  private int conversions;
  private final long begun = System.nanoTime();
  /** Whether its command went out: a deadline missed after that may hide a run in Redis. */
  volatile boolean sent;
  volatile Batcher.Batch batch;

  Call(Calls owner, Lane<?> lane, Object key, byte[][] op, Outcome<T> outcome,
      RedisScriptingAsyncCommands<byte[], byte[]> commands) {
    this.owner = owner;
    this.lane = lane;
    this.key = key;
    this.hash = RedisKeys.hash(key);
    this.op = op;
    this.outcome = outcome;
    this.commands = commands;
    Lane<?>[] others = lane.others;
    byte[][] keys = new byte[1 + others.length][];
    keys[0] = lane.keys.withHash(hash);
    for (int j = 0; j < others.length; j++) {
      keys[1 + j] = others[j].keys.withHash(hash);
    }
    byte[][] args = new byte[2 + op.length][];
    args[0] = NO;
    args[1] = BucketMath.ascii(others.length);
    System.arraycopy(op, 0, args, 2, op.length);
    this.redisKeys = keys;
    this.keyArgs = args;
  }

  /** The call's own Redis key. */
  byte[] redisKey() {
    return redisKeys[0];
  }

  /** Sends the call (again). */
  void send() {
    lane.batcher.send(commands, this);
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
    if (reply.redirect() != 0 && !result.isDone()) {
      redirected(reply);
      return;
    }
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

  /**
   * The key's state is in another policy's bucket: convert it (BucketMath.convert, exactly) and
   * send the call again with the conversion, which the script applies only if that bucket still
   * holds what it read. Or it moved to a policy this store does not know: fail (the failure mode
   * answers), never decide from a new bucket.
   */
  private void redirected(KeyReply reply) {
    StoreUnavailableException failure = null;
    if (reply.redirect() == KeyReply.MOVED_UNKNOWN) {
      failure = new StoreUnavailableException("the bucket of this key moved to a policy this"
          + " store does not decide under (" + new String(reply.raw(), StandardCharsets.US_ASCII)
          + "), from another node");
    } else if (++conversions > MAX_CONVERSIONS) {
      failure = new StoreUnavailableException("the bucket of this key changed policy more than "
          + MAX_CONVERSIONS + " times during one call");
    }
    if (failure == null) {
      try {
        byte[] source = redisKeys[reply.source()];
        Lane<?> from = null;
        for (Lane<?> other : lane.others) {
          if (Arrays.equals(other.keys.withHash(hash), source)) {
            from = other;
          }
        }
        if (from == null) {
          throw new IllegalStateException("no policy of this store has that bucket");
        }
        BucketMath.Converted c = lane.math.convert(from.math, reply.raw(), reply.now());
        forget(lane, key);
        forget(from, key);
        byte[][] args = new byte[5 + op.length][];
        args[0] = YES;
        args[1] = reply.raw();
        args[2] = c.value();
        args[3] = BucketMath.ascii(c.pxMillis());
        args[4] = BucketMath.ascii(1);
        System.arraycopy(op, 0, args, 5, op.length);
        redisKeys = new byte[][] {redisKeys[0], source};
        keyArgs = args;
        send();
        return;
      } catch (RuntimeException e) {
        failure = new StoreUnavailableException("cannot convert the bucket of this key: " + e, e);
      }
    }
    fail(failure);
  }

  /** The key's state changes policy: no refusal remembered for it under either may be answered. */
  @SuppressWarnings("unchecked")
  private static void forget(Lane<?> lane, Object key) {
    if (lane.denyCache != null) {
      ((DenyCache<Object>) lane.denyCache).forget(key);
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
