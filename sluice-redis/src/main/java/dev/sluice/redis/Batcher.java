package dev.sluice.redis;

import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Turns one store's calls into commands. On a standalone server a store keeps at most
 * {@value #MAX_COMMANDS} commands in flight; calls that arrive meanwhile wait in a queue and
 * share the next {@code EVALSHA} (up to {@value #MAX_BATCH} keys, decided by the script in
 * arrival order, each atomically), so under load Redis runs one command for many calls. On a
 * Cluster every call is its own command: keys of different slots cannot share a script.
 *
 * <p>A command whose reply is {@code NOSCRIPT} (after {@code SCRIPT FLUSH}, a restart or a
 * failover) is sent once more with {@code EVAL}, which loads and runs the script in the same
 * command: nothing ran the first time, so nothing is counted twice. No other failure is retried.
 *
 * <p>One caller's calls reach Redis in the order it made them (batches are taken from the queue
 * and written under one lock, and never written from an I/O thread); only a batch resent after
 * {@code NOSCRIPT} may run after commands written while it was away.
 */
final class Batcher {

  /** Commands of one store in flight at once (standalone); calls beyond wait to share one. */
  static final int MAX_COMMANDS = 2;
  /** The most calls one command carries. */
  static final int MAX_BATCH = 64;

  private final BucketMath math;
  private final Clocks clocks;
  private final Connector connector;
  private final Stats stats;
  private final StateWatch watch;
  private final boolean batching;
  private final ConcurrentLinkedQueue<Call<?>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger commandsInFlight = new AtomicInteger();

  Batcher(BucketMath math, Clocks clocks, Connector connector, Stats stats, StateWatch watch) {
    this.watch = watch;
    this.math = math;
    this.clocks = clocks;
    this.connector = connector;
    this.stats = stats;
    this.batching = !connector.isCluster();
  }

  /** Sends {@code call}: alone (Cluster), or in the next command (standalone). */
  void send(RedisScriptingAsyncCommands<byte[], byte[]> commands, Call<?> call) {
    if (batching) {
      queue.offer(call);
      pump(commands);
    } else {
      new Batch(commands, List.of(call), false).send(false);
    }
  }

  /**
   * Sends the queued calls, as many per command as are waiting (up to {@value #MAX_BATCH}),
   * while fewer than {@value #MAX_COMMANDS} of this store's commands are in flight. Called after
   * every enqueue and every completed command, so a call never waits for more than the
   * commands ahead of it.
   *
   * <p>Taking calls from the queue and sending them is one step under this batcher's lock:
   * otherwise a thread could take a call, another take the calls behind it and send them first,
   * and Redis would decide a caller's calls out of the order they were made (a later call
   * admitted, the earlier one refused). Sending only writes to the connection; it never waits
   * for Redis.
   */
  private synchronized void pump(RedisScriptingAsyncCommands<byte[], byte[]> commands) {
    for (;;) {
      int n = commandsInFlight.get();
      if (n >= MAX_COMMANDS || queue.isEmpty()) {
        return;
      }
      if (!commandsInFlight.compareAndSet(n, n + 1)) {
        continue;
      }
      List<Call<?>> calls = new ArrayList<>();
      Call<?> c;
      while (calls.size() < MAX_BATCH && (c = queue.poll()) != null) {
        if (!c.isDone()) {
          calls.add(c);
        }
      }
      if (calls.isEmpty()) {
        commandsInFlight.decrementAndGet();
        continue;
      }
      new Batch(commands, calls, true).send(false);
    }
  }

  /**
   * One command: {@code EVALSHA} of the script for one or more calls (at most one {@code EVAL}
   * after {@code NOSCRIPT}), whose reply completes each of them.
   */
  final class Batch implements BiConsumer<Object, Throwable> {

    private final RedisScriptingAsyncCommands<byte[], byte[]> commands;
    private final List<Call<?>> calls;
    /** Whether it holds one of the {@value #MAX_COMMANDS} slots (standalone). */
    private final boolean counted;
    private final byte[][] keys;
    private final byte[][] args;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile RedisFuture<List<Object>> pending;
    /** When it was sent, on the deny cache's clock. */
    private volatile long sentAt;
    private volatile boolean reloaded;

    Batch(RedisScriptingAsyncCommands<byte[], byte[]> commands, List<Call<?>> calls,
        boolean counted) {
      this.commands = commands;
      this.calls = calls;
      this.counted = counted;
      byte[][] head = math.head();
      int keyCount = 0;
      int argCount = head.length;
      byte[][][] callKeys = new byte[calls.size()][][];
      byte[][][] callArgs = new byte[calls.size()][][];
      for (int i = 0; i < calls.size(); i++) {
        Call<?> c = calls.get(i);
        callKeys[i] = c.redisKeys;
        callArgs[i] = c.keyArgs;
        keyCount += callKeys[i].length;
        argCount += callArgs[i].length;
        c.batch = this;
      }
      keys = new byte[keyCount][];
      args = new byte[argCount][];
      System.arraycopy(head, 0, args, 0, head.length);
      if (clocks.scriptMicros() != null) {
        args[1] = BucketMath.ascii(clocks.scriptMicros().getAsLong());
      }
      int k = 0;
      int a = head.length;
      for (int i = 0; i < calls.size(); i++) {
        System.arraycopy(callKeys[i], 0, keys, k, callKeys[i].length);
        k += callKeys[i].length;
        System.arraycopy(callArgs[i], 0, args, a, callArgs[i].length);
        a += callArgs[i].length;
      }
    }

    void send(boolean reload) {
      RedisFuture<List<Object>> f;
      sentAt = clocks.cacheNanos().getAsLong();
      stats.roundTrips.incrementAndGet();
      for (Call<?> c : calls) {
        c.sent = true;
      }
      try {
        f = reload
            ? commands.eval(Script.BYTES, ScriptOutputType.MULTI, keys, args)
            : commands.evalsha(Script.SHA, ScriptOutputType.MULTI, keys, args);
      } catch (RuntimeException e) {
        failAll(e);
        release();
        return;
      }
      pending = f;
      if (allDone()) {
        f.cancel(false);
      }
      f.whenComplete(this);
    }

    /** The reply of {@code EVALSHA} or {@code EVAL}. */
    @Override
    public void accept(Object reply, Throwable error) {
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null
            ? error.getCause() : error;
        if (!reloaded && Script.isNoScript(cause) && !allDone()) {
          reloaded = true;
          stats.reloads.incrementAndGet();
          send(true);
          watch.onNoScript();
          return;
        }
        failAll(cause);
        release();
        return;
      }
      KeyReply[] replies;
      try {
        replies = Script.decode(reply, calls.size(), math.limits());
      } catch (RuntimeException e) {
        StoreUnavailableException u =
            new StoreUnavailableException("unexpected reply from " + connector + ": " + e, e);
        for (Call<?> c : calls) {
          c.fail(u);
        }
        release();
        return;
      }
      for (int i = 0; i < calls.size(); i++) {
        calls.get(i).succeed(replies[i], sentAt);
      }
      release();
    }

    private void failAll(Throwable cause) {
      StoreUnavailableException e = cause instanceof StoreUnavailableException
          ? (StoreUnavailableException) cause
          : new StoreUnavailableException(connector + " failed: " + cause, cause);
      for (Call<?> c : calls) {
        if (c.fail(e)) {
          stats.errors.incrementAndGet();
        }
      }
    }

    boolean allDone() {
      for (Call<?> c : calls) {
        if (!c.isDone()) {
          return false;
        }
      }
      return true;
    }

    /** Every call of this command missed its deadline: stop waiting for it. */
    void cancel() {
      RedisFuture<List<Object>> f = pending;
      if (f != null) {
        f.cancel(false);
      }
    }

    /**
     * Frees this command's slot and sends what queued up meanwhile, from the connector's sender
     * thread: this runs where the reply completed, usually a Lettuce I/O thread, and a command
     * written there would overtake the commands callers handed over before it
     * (see {@link Connector#sender()}), deciding a caller's later calls before its earlier ones.
     */
    private void release() {
      if (counted && released.compareAndSet(false, true)) {
        commandsInFlight.decrementAndGet();
        if (queue.isEmpty()) {
          return;
        }
        Executor sender = connector.sender();
        if (sender != null) {
          try {
            sender.execute(() -> pump(commands));
            return;
          } catch (RejectedExecutionException e) {
            // the connector is shutting down: send (and fail) them here
          }
        }
        pump(commands);
      }
    }
  }
}
