package dev.sluice.redis;

import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisServerAsyncCommands;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Notices that Redis lost this store's data (a restart without persistence, {@code FLUSHALL},
 * {@code FLUSHDB}, a failover to a replica that had not the data) and counts it, instead of
 * letting every bucket silently restart full.
 *
 * <p>The store's namespace holds a marker key, {@code {<namespace>}:epoch}, without expiry, whose
 * value is a random token: the epoch of the namespace's data. The first store to find the marker
 * missing writes a new token ({@code SET NX}: one writer wins); every store remembers the token
 * it last read. A check reads the marker: gone, or holding a token other than the one this store
 * remembered, means the data was lost since the last check (once per loss and store, also when
 * another node noticed first and wrote the new token). Counted in {@link Stats#stateLost} and
 * logged as one {@code WARNING} (logger {@code dev.sluice.redis.RedisStore}), naming Redis's
 * {@code run_id} before and after (changed: a restart; the same: a flush or the key deleted).
 * The first check of a store only learns the token: a loss before it is not counted.
 *
 * <p>A check never delays a decision and costs no round trip of a decision's: it is sent on its
 * own, asynchronously, after the first call of the store, at once after a {@code NOSCRIPT} reply
 * (a restart or a failover empties the script cache too), and otherwise at most once per
 * {@link #INTERVAL} while the store takes calls (a flush keeps the script cache, so only this
 * finds it). A check that fails is forgotten; the next one runs at the next occasion.
 *
 * <p>What it cannot see: one deleted bucket (indistinguishable from a bucket that expired when
 * full, which is no key by design); a loss that a check did not straddle (a flush, then buckets
 * that all refilled, then nothing); on a Cluster, a loss on another node than the marker's slot.
 */
final class StateWatch {

  /** The longest between two checks of a store taking calls. */
  static final Duration INTERVAL = Duration.ofSeconds(1);

  private static final System.Logger LOG = System.getLogger(RedisStore.class.getName());

  private final String store;
  private final Connector connector;
  private final Stats stats;
  private final byte[] marker;
  private final AtomicBoolean running = new AtomicBoolean();
  /** Checks that read the marker (for tests). */
  final AtomicLong checks = new AtomicLong();
  /** When the next check is due, on {@code System.nanoTime()}; 0: at the next call. */
  private volatile long due;
  /** The token this store last read, or null before its first check. */
  private volatile String token;
  private volatile String runId;

  StateWatch(String store, String namespace, Connector connector, Stats stats) {
    this.store = store;
    this.connector = connector;
    this.stats = stats;
    this.marker = markerKey(namespace);
  }

  /** The marker's key: in the namespace, apart from every bucket ({@code {ns:name:h}:p}). */
  static byte[] markerKey(String namespace) {
    return ("{" + namespace + "}:epoch").getBytes(StandardCharsets.US_ASCII);
  }

  /** Whether a check has read the marker's token (for tests). */
  boolean learned() {
    return token != null;
  }

  /** On every call: a check if one is due (one volatile read and a clock read otherwise). */
  void onCall() {
    long d = due;
    if (d == 0 || System.nanoTime() - d >= 0) {
      check();
    }
  }

  /** Redis answered {@code NOSCRIPT}: its script cache was emptied, maybe its data too. */
  void onNoScript() {
    check();
  }

  /** Starts a check unless one is running. */
  void check() {
    if (!running.compareAndSet(false, true)) {
      return;
    }
    due = System.nanoTime() + INTERVAL.toNanos();
    RedisStringAsyncCommands<byte[], byte[]> strings = connector.strings();
    RedisServerAsyncCommands<byte[], byte[]> server = connector.server();
    if (strings == null || server == null) {
      running.set(false);
      return;
    }
    try {
      strings.get(marker).thenCompose(value -> value != null
              ? CompletableFuture.completedFuture(value)
              : write(strings))
          .thenAccept(this::read)
          .whenComplete((v, e) -> running.set(false));
    } catch (RuntimeException e) {
      running.set(false);
    }
  }

  /** Writes a new token if there is still none; the token the marker holds then. */
  private CompletionStage<byte[]> write(RedisStringAsyncCommands<byte[], byte[]> strings) {
    // Unique, not secret: ThreadLocalRandom, since this runs on the client's event loop, where
    // SecureRandom (UUID.randomUUID) may read /dev/urandom, a blocking call (BlockHound saw it).
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] mine = (Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong())
        + Long.toHexString(System.nanoTime())).getBytes(StandardCharsets.US_ASCII);
    return strings.set(marker, mine, SetArgs.Builder.nx())
        .thenCompose(ok -> ok != null ? CompletableFuture.completedFuture(mine)
            : strings.get(marker));
  }

  private void read(byte[] value) {
    if (value == null) {
      return; // deleted between our write and read: the next check sees it
    }
    String now = new String(value, StandardCharsets.US_ASCII);
    String before = token;
    token = now;
    if (before == null) {
      runId().thenAccept(id -> runId = id);
      checks.incrementAndGet();
      return;
    }
    boolean lost = !before.equals(now);
    if (lost) {
      stats.stateLost.incrementAndGet();
    }
    checks.incrementAndGet();
    if (lost) {
      String oldRun = runId;
      runId().whenComplete((id, e) -> {
        runId = id;
        String how = id == null || oldRun == null ? "run_id unknown"
            : id.equals(oldRun) ? "same run_id " + id + ": flushed, or the marker deleted"
            : "run_id " + oldRun + " -> " + id + ": restarted";
        LOG.log(Level.WARNING, "sluice: Redis lost the data of the Redis store " + store
            + " on " + connector + " (" + how + "); its buckets start full again");
      });
    }
  }

  /** Redis's {@code run_id} (of the node {@code INFO} reaches on a Cluster), or null. */
  private CompletionStage<String> runId() {
    RedisServerAsyncCommands<byte[], byte[]> server = connector.server();
    if (server == null) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      return server.info("server").handle((info, e) -> info == null ? null : parseRunId(info));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(null);
    }
  }

  static String parseRunId(String info) {
    int at = info.indexOf("run_id:");
    if (at < 0) {
      return null;
    }
    int end = at + 7;
    while (end < info.length() && !Character.isWhitespace(info.charAt(end))) {
      end++;
    }
    return info.substring(at + 7, end);
  }
}
