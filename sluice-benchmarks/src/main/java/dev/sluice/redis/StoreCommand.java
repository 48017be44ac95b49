package dev.sluice.redis;

import dev.sluice.Policy;
import java.util.Arrays;

/**
 * The {@code EVALSHA} that {@link RedisStore} sends for one call, built by the store's own
 * package-private code ({@link BucketMath}, {@link RedisKeys}, the layout of {@link Call}): so a
 * benchmark's raw baseline sends exactly the store's keys and arguments, and cannot drift from
 * {@code bucket.lua} when either changes. Lives in sluice-benchmarks, in the store's package, for
 * the benchmarks only.
 */
public final class StoreCommand {

  private StoreCommand() {}

  /** The SHA-1 of {@code bucket.lua}, as the store sends it with {@code EVALSHA}. */
  public static String sha() {
    return Script.SHA;
  }

  /** The text of {@code bucket.lua}, as the store loads it. */
  public static String script() {
    return Script.TEXT;
  }

  /**
   * The whole ARGV of a command that takes one permit of one key under {@code policy}, on Redis's
   * clock: the policy's head (L, the clock {@code ""}, the fingerprint, then per limit den fillQ
   * fillR initQ initR), then the call's part (no conversion {@code 0}, no other policies
   * {@code 0}, the take {@code 1} and per limit its cost Q R).
   */
  public static byte[][] takeOne(Policy policy) {
    BucketMath math = new BucketMath(policy);
    byte[][] head = math.head();
    byte[][] take = math.take(1);
    byte[][] out = Arrays.copyOf(head, head.length + 2 + take.length);
    out[head.length] = new byte[] {'0'};
    out[head.length + 1] = new byte[] {'0'};
    System.arraycopy(take, 0, out, head.length + 2, take.length);
    return out;
  }

  /** The Redis key of {@code key}'s bucket for limiter {@code name} under {@code policy}. */
  public static byte[] key(String namespace, String name, Policy policy, Object key) {
    return new RedisKeys(namespace, name, policy).of(key);
  }

  /** The policy's fingerprint, the third argument. */
  public static String fingerprint(Policy policy) {
    return RedisKeys.fingerprint(policy);
  }
}
