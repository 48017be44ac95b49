package dev.sluice.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How one store learns the live node count {@code N} that its limiter's {@code LOCAL} fallback
 * divides the policy by ({@link RedisStore#liveNodes()}), without a round trip per decision.
 *
 * <p>Every store is a node: it holds a random id and, at most once every {@link #INTERVAL_NANOS}
 * (on a decision, piggy-backed: the check is one clock read), sends one script that, by Redis's
 * clock, sets its id's expiry in the sorted set {@code {<namespace>:<name>}:nodes} to now +
 * {@link #TTL_MILLIS}, drops the ids whose expiry has passed, and returns how many remain: that
 * is {@code N}. Nothing waits for the reply; a failed beat keeps the count Redis last gave (an
 * outage is exactly when the count must stay). One key per limiter, so one Cluster slot; its
 * braces hold no third part, so it never meets a bucket key ({@code {<namespace>:<name>:<h>}:<p>}).
 *
 * <p>What the count misses: a node that made no decision for a TTL is not counted, and if it then
 * takes traffic while Redis is down, the others' shares are too large by the ratio
 * {@code N/(N-1)}. A node that closes its store leaves the set at once.
 */
final class Heartbeat {

  /** The most often a store beats: every 2 s. */
  static final long INTERVAL_NANOS = 2_000_000_000L;

  /** How long a beat keeps a node counted, by Redis's clock: three intervals. */
  static final long TTL_MILLIS = 6_000;

  private static final byte[] BEAT = (
      "local t = redis.call('TIME')\n"
      + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
      + "local ttl = tonumber(ARGV[2])\n"
      + "redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"
      + "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
      + "redis.call('PEXPIRE', KEYS[1], ttl)\n"
      + "return redis.call('ZCARD', KEYS[1])\n").getBytes(StandardCharsets.US_ASCII);

  private static final byte[] LEAVE =
      "return redis.call('ZREM', KEYS[1], ARGV[1])".getBytes(StandardCharsets.US_ASCII);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Connector connector;
  private final byte[][] keys;
  private final byte[] id;
  private final byte[] ttl = Long.toString(TTL_MILLIS).getBytes(StandardCharsets.US_ASCII);
  /** The earliest {@link System#nanoTime()} of the next beat. */
  private final AtomicLong nextBeat;
  private volatile long nodes = 1;

  Heartbeat(Connector connector, String namespace, String name) {
    this.connector = connector;
    this.keys = new byte[][] {
        ("{" + namespace + ":" + name + "}:nodes").getBytes(StandardCharsets.US_ASCII)};
    byte[] random = new byte[12];
    RANDOM.nextBytes(random);
    this.id = Base64.getUrlEncoder().withoutPadding().encode(random);
    this.nextBeat = new AtomicLong(System.nanoTime());
  }

  /** The live nodes as Redis last counted them, this one included; 1 before the first reply. */
  long nodes() {
    return nodes;
  }

  /** Beats if the interval has passed since the last one; otherwise one clock read. */
  void maybeBeat() {
    long next = nextBeat.get();
    long now = System.nanoTime();
    if (now - next >= 0 && nextBeat.compareAndSet(next, now + INTERVAL_NANOS)) {
      beat();
    }
  }

  /** Sends one beat now, asynchronously; the reply updates {@link #nodes()}. */
  void beat() {
    RedisScriptingAsyncCommands<byte[], byte[]> commands = connector.commands();
    if (commands == null) {
      return;
    }
    try {
      commands.<Long>eval(BEAT, ScriptOutputType.INTEGER, keys, id, ttl)
          .whenComplete((count, error) -> {
            if (error == null && count != null) {
              nodes = Math.max(1, count);
            }
          });
    } catch (RuntimeException notSent) {
      // a failed beat keeps the last count
    }
  }

  /** Leaves the set (best effort, not waited for): the other nodes' next count omits this one. */
  void leave() {
    RedisScriptingAsyncCommands<byte[], byte[]> commands = connector.commands();
    if (commands == null) {
      return;
    }
    try {
      commands.<Long>eval(LEAVE, ScriptOutputType.INTEGER, keys, id);
    } catch (RuntimeException notSent) {
      // its entry expires by itself
    }
  }
}
