package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Reservation;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.event.command.CommandFailedEvent;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import io.lettuce.core.event.command.CommandSucceededEvent;
import io.lettuce.core.protocol.CommandType;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One JVM of {@link RedisPacingTest}: a limiter on Redis whose threads call the blocking
 * {@code acquire(key, 1, 30 s)} in a loop between the lines {@code GO} and {@code STOP} on its
 * standard input. For each permit it records two instants by Redis's clock, in µs since
 * 2025-01-01 (the script's unit): the reservation's due instant {@code D} (the script's
 * {@code now} plus its wait, read from the script's reply as Redis sent it, before the store
 * interprets it) and Redis's {@code TIME} read right after {@code acquire} returned. It prints
 * {@code READY} once Redis has reserved for it (a cold JVM on a loaded machine may take seconds),
 * then, after {@code STOP}, one {@code PERMIT D waitMicros returnedTime} line per permit and
 * {@code END permits refused} (refused: acquires that returned false or threw).
 *
 * <p>How {@code D} is read: a Lettuce {@link CommandListener} on the client sees each script
 * reply; the store's reservations in this JVM go one at a time (a lock around the store's
 * {@code reserve}, outside the wait), so the reply the listener sees is the one of the call in
 * progress. The waits themselves overlap: every thread holds its reservation while it waits.
 *
 * <p>Arguments: uri, limiter name, key, threads.
 */
public final class PacingNode {

  static final Limit LIMIT = Limit.perSecond(50).withCapacity(1);
  static final Duration DEADLINE = Duration.ofSeconds(10);
  /** Seconds between 1970-01-01 and 2025-01-01, the script's epoch. */
  static final long EPOCH_2025_SECONDS = 1_735_689_600L;

  private PacingNode() {}

  /**
   * Runs the node.
   *
   * @param args see the class comment
   * @throws Exception on any failure (the test then fails)
   */
  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String name = args[1];
    String key = args[2];
    int threads = Integer.parseInt(args[3]);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    RedisClient client = RedisClient.create(uri);
    client.setOptions(RedisStore.clientOptions());
    Replies replies = new Replies();
    client.addListener(replies);
    try (StatefulRedisConnection<String, String> time = client.connect();
        RedisStore.Factory factory = RedisStore.factory(client).deadline(DEADLINE);
        RateLimiter<String> limiter = RateLimiter.builder(Policy.of(LIMIT)).name(name)
            .store(recording(factory, replies)).failureMode(FailureMode.CLOSED).build()) {
      String unready = warmUp(limiter, time, key);
      System.out.println(unready == null ? "READY" : "UNREADY " + unready);
      System.out.flush();
      if (unready != null || !"GO".equals(in.readLine())) {
        return;
      }
      List<long[]> permits = new ArrayList<>();
      AtomicLong refused = new AtomicLong();
      Thread[] workers = new Thread[threads];
      for (int t = 0; t < threads; t++) {
        workers[t] = new Thread(() -> {
          List<long[]> mine = new ArrayList<>();
          while (running) {
            try {
              if (!limiter.acquire(key, 1, Duration.ofSeconds(30))) {
                refused.incrementAndGet();
                continue;
              }
            } catch (RuntimeException e) {
              refused.incrementAndGet(); // counted, and the thread goes on: the test fails on it
              continue;
            }
            long returned = micros(time.sync().time());
            long[] due = DUE.get();
            mine.add(new long[] {due[0], due[1], returned});
          }
          synchronized (permits) {
            permits.addAll(mine);
          }
        }, "pacing-" + t);
        workers[t].start();
      }
      in.readLine(); // STOP, or the end of the input
      running = false;
      for (Thread w : workers) {
        w.join();
      }
      for (long[] p : permits) {
        System.out.println("PERMIT " + p[0] + " " + p[1] + " " + p[2]);
      }
      System.out.println("END " + permits.size() + " " + refused.get());
      System.out.flush();
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  private static volatile boolean running = true;

  /** This thread's last reservation: {@code D} and the wait in µs, by Redis's clock. */
  private static final ThreadLocal<long[]> DUE = ThreadLocal.withInitial(() -> new long[2]);

  /** Reserves on another key until Redis answers once, within a minute; null once ready. */
  private static String warmUp(RateLimiter<String> limiter, StatefulRedisConnection<String,
      String> time, String key) {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    String last = "no attempt";
    while (System.nanoTime() - end < 0) {
      try {
        if (limiter.acquire(key + "-warm-up", 1, Duration.ofSeconds(1))) {
          micros(time.sync().time());
          return null;
        }
        last = "refused";
      } catch (RuntimeException e) {
        last = e.toString();
      }
    }
    return last;
  }

  /** Redis's {@code TIME} in µs since 2025-01-01, as the script computes its {@code now}. */
  static long micros(List<String> time) {
    return (Long.parseLong(time.get(0)) - EPOCH_2025_SECONDS) * 1_000_000L
        + Long.parseLong(time.get(1));
  }

  /** The store, with its reservations one at a time and each one's reply read as Redis sent it. */
  private static RateStoreFactory recording(RedisStore.Factory factory, Replies replies) {
    return new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String n, Policy policy, Ticker ticker) {
        return new Recording<>(factory.create(n, policy, ticker), replies);
      }
    };
  }

  /** A store that delegates everything and records, per thread, each reservation's {@code D}. */
  private static final class Recording<K> implements RateStore<K> {
    private final RedisStore<K> store;
    private final Replies replies;

    Recording(RedisStore<K> store, Replies replies) {
      this.store = store;
      this.replies = replies;
    }

    @Override
    public Reservation reserve(K key, Policy policy, long permits, long maxWaitNanos) {
      synchronized (replies) {
        replies.seen.clear();
        Reservation r = store.reserve(key, policy, permits, maxWaitNanos);
        long[] reply;
        try {
          reply = replies.seen.poll(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while reading the reply", e);
        }
        if (reply == null) {
          throw new IllegalStateException("no reservation reply seen for " + r);
        }
        long[] due = DUE.get();
        due[0] = reply[0] + reply[1];
        due[1] = reply[1];
        return r;
      }
    }

    @Override
    public Decision decide(K key, Policy policy, long permits) {
      return store.decide(key, policy, permits);
    }

    @Override
    public CompletionStage<Decision> decideAsync(K key, Policy policy, long permits) {
      return store.decideAsync(key, policy, permits);
    }

    @Override
    public long availablePermits(K key, Policy policy) {
      return store.availablePermits(key, policy);
    }

    @Override
    public long size() {
      return store.size();
    }

    @Override
    public void close() {
      store.close();
    }
  }

  /**
   * Script replies that granted a reservation (see bucket.lua: {@code 5, D - now,
   * "now:written before"}), as {@code {now, wait}} in µs.
   */
  private static final class Replies implements CommandListener {
    final BlockingQueue<long[]> seen = new LinkedBlockingQueue<>();

    @Override
    public void commandStarted(CommandStartedEvent event) {}

    @Override
    public void commandFailed(CommandFailedEvent event) {}

    @Override
    public void commandSucceeded(CommandSucceededEvent event) {
      Object type = event.getCommand().getType();
      if (type != CommandType.EVALSHA && type != CommandType.EVAL) {
        return;
      }
      Object out = event.getCommand().getOutput().get();
      if (!(out instanceof List) || ((List<?>) out).size() < 3
          || !Long.valueOf(KeyReply.RESERVED).equals(((List<?>) out).get(0))) {
        return;
      }
      List<?> reply = (List<?>) out;
      Object text = reply.get(2);
      String s = text instanceof byte[]
          ? new String((byte[]) text, StandardCharsets.US_ASCII) : String.valueOf(text);
      long now = Long.parseLong(s.substring(0, s.indexOf(':')));
      seen.add(new long[] {now, (Long) reply.get(1)});
    }
  }
}
