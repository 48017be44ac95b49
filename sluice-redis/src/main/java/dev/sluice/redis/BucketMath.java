package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A policy compiled for the Lua script ({@code bucket.lua}): the arguments the script takes, and
 * the meaning of its reply ({@link KeyReply}, decoded by {@link Script}) as a {@link Decision} or
 * a count of permits.
 *
 * <h2>The model</h2>
 * The same as the core engine's: a limit of capacity {@code C} earning one permit every
 * {@code T} is the instant {@code emptyAt} at which its bucket is empty; a request for {@code n} is
 * measured from {@code base = max(emptyAt, now - C*T)} and admitted iff {@code base + n*T <= now}, and
 * then {@code emptyAt := base + n*T}; a refund of {@code n} held for {@code h} sets {@code emptyAt := max(emptyAt - max(0, n*T - h), now - C*T)},
 * which never fills a bucket beyond its capacity. The script reads {@code now} from
 * {@code redis.call('TIME')}, in microseconds since 2025-01-01T00:00:00Z, so every node shares
 * Redis's clock.
 *
 * <h2>Why it is exact with Lua doubles</h2>
 * {@code T = P/N} (period {@code P} ns, {@code N} permits) is kept in microseconds as the reduced
 * fraction {@code num/den = P / (1000 N)}. Every duration the script needs (the fill time
 * {@code C*T}, the cost {@code n*T}, the initial credit) is computed here, exactly, with long
 * and BigInteger arithmetic, and passed as {@code Q + R/den} with {@code 0 <= R < den}; every
 * instant is stored the same way (whole microseconds plus a numerator below {@code den}, as two
 * little-endian doubles per limit, which hold such integers exactly). The
 * script then only adds, subtracts and compares integers, all below 2<sup>53</sup>, where a
 * double is exact: so nothing is rounded, nothing drifts, for any rate the core accepts (7/s,
 * 999,983 per 7 s, 10<sup>9</sup>/s). What the script returns (per limit, {@code now - emptyAt} and
 * the fraction) is turned into whole permits and waits here, again exactly; the only rounding is
 * that of the waits, up to a whole microsecond (Redis's clock has no finer grain, so a request
 * made exactly {@code retryAfter} later succeeds).
 *
 * <h2>Bounds</h2>
 * {@code den = 1000 N / gcd(P, 1000 N) <= 1000 (2^31 - 1)} since the core bounds the reduced
 * numerator of the rate, so sums of two fractions stay below 2<sup>42</sup>. Instants are at
 * most {@code now + C*T} in magnitude: with {@code C*T <= 2^52} µs ({@link #MAX_FILL_MICROS},
 * about 142.7 years, checked here) and Redis's clock before 2167 ({@code now < 2^52} µs after
 * the epoch), everything stays below 2<sup>53</sup>. Limits are otherwise the core's.
 */
final class BucketMath {

  /** Largest time to fill an empty bucket in Redis: 2<sup>52</sup> µs, about 142.7 years. */
  static final long MAX_FILL_MICROS = 1L << 52;

  /** The arguments before the limits' in the head: L, the clock, the fingerprint. */
  static final int HEAD = 3;

  private static final BigInteger THOUSAND = BigInteger.valueOf(1000);
  private static final byte[] TAKE = {'1'};
  private static final byte[] LOOK = {'0'};
  private static final byte[] REFUND = {'2'};
  private static final byte[] ZERO = {'0'};
  private static final byte[] RESERVE = {'3'};
  private static final byte[] CANCEL = {'4'};
  private static final byte[] LEASE = {'5'};
  private static final byte[] GIVE_BACK = {'6'};

  private final Policy policy;
  private final int limits;
  private final long[] capacity;
  private final long[] num;
  private final long[] den;
  private final long[] fillQ;
  private final long[] fillR;
  private final long[] initQ;
  private final long[] initR;
  private final long minCapacity;
  /**
   * The policy's part of ARGV: L, the clock ({@code ""}: Redis's), the fingerprint, then per
   * limit den fillQ fillR initQ initR. Shared, never modified.
   */
  private final byte[][] head;
  /** A key's part of ARGV to take one permit, and to look. Shared, never modified. */
  private final byte[][] takeOne;
  private final byte[][] look;

  BucketMath(Policy policy) {
    this.policy = policy;
    List<Limit> list = policy.limits();
    limits = list.size();
    capacity = new long[limits];
    num = new long[limits];
    den = new long[limits];
    fillQ = new long[limits];
    fillR = new long[limits];
    initQ = new long[limits];
    initR = new long[limits];
    long min = Long.MAX_VALUE;
    for (int i = 0; i < limits; i++) {
      Limit limit = list.get(i);
      BigInteger p = BigInteger.valueOf(limit.refillPeriod().toNanos());
      BigInteger n = BigInteger.valueOf(limit.refillPermits()).multiply(THOUSAND);
      BigInteger g = p.gcd(n);
      num[i] = p.divide(g).longValueExact();
      den[i] = n.divide(g).longValueExact();
      capacity[i] = limit.capacity();
      min = Math.min(min, capacity[i]);
      BigInteger[] fill = BigInteger.valueOf(capacity[i]).multiply(BigInteger.valueOf(num[i]))
          .divideAndRemainder(BigInteger.valueOf(den[i]));
      if (fill[0].compareTo(BigInteger.valueOf(MAX_FILL_MICROS)) >= 0) {
        throw new IllegalArgumentException(
            "time to fill an empty bucket (" + limit + ": " + fill[0] + " µs) exceeds the Redis"
                + " store's maximum of 2^52 µs (" + MAX_FILL_MICROS + " µs, about 142 years):"
                + " the script's arithmetic is in Lua doubles, exact below 2^53");
      }
      fillQ[i] = fill[0].longValueExact();
      fillR[i] = fill[1].longValueExact();
      initQ[i] = mulQ(i, limit.initialPermits());
      initR[i] = mulR(i, limit.initialPermits());
    }
    minCapacity = min;
    head = new byte[HEAD + 5 * limits][];
    head[0] = ascii(limits);
    head[1] = new byte[0];
    head[2] = RedisKeys.fingerprint(policy).getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < limits; i++) {
      int a = HEAD + 5 * i;
      head[a] = ascii(den[i]);
      head[a + 1] = ascii(fillQ[i]);
      head[a + 2] = ascii(fillR[i]);
      head[a + 3] = ascii(initQ[i]);
      head[a + 4] = ascii(initR[i]);
    }
    look = new byte[1 + 2 * limits][];
    look[0] = LOOK;
    for (int i = 1; i < look.length; i++) {
      look[i] = ZERO;
    }
    takeOne = costs(TAKE, 1);
  }

  /** Whole microseconds of {@code n*T} for limit {@code i}, for {@code 0 <= n <= C}. */
  private long mulQ(int i, long n) {
    long hi = Math.multiplyHigh(n, num[i]);
    long lo = n * num[i];
    if (hi == 0 && lo >= 0) {
      return lo / den[i];
    }
    return BigInteger.valueOf(n).multiply(BigInteger.valueOf(num[i]))
        .divide(BigInteger.valueOf(den[i])).longValueExact();
  }

  /** Numerator (below {@code den}) of the fraction of {@code n*T} for limit {@code i}. */
  private long mulR(int i, long n) {
    long hi = Math.multiplyHigh(n, num[i]);
    long lo = n * num[i];
    if (hi == 0 && lo >= 0) {
      return lo % den[i];
    }
    return BigInteger.valueOf(n).multiply(BigInteger.valueOf(num[i]))
        .mod(BigInteger.valueOf(den[i])).longValueExact();
  }

  /**
   * A key's part of ARGV to take {@code permits}: per limit the time to earn them. For a limit
   * whose capacity is below {@code permits} that is the fill time plus 1 µs: more than any bucket
   * holds, so the script refuses.
   */
  byte[][] take(long permits) {
    return permits == 1 ? takeOne : costs(TAKE, permits);
  }

  /**
   * A key's part of ARGV to give {@code permits} back after {@code heldMicros}: per limit the
   * time to earn {@code min(permits, C)} (so that a refund of the capacity or more fills the
   * bucket, and no more) less the time held, at least 0.
   */
  byte[][] refund(long permits, long heldMicros) {
    byte[][] args = new byte[1 + 2 * limits][];
    args[0] = REFUND;
    for (int i = 0; i < limits; i++) {
      long n = Math.min(permits, capacity[i]);
      long q = mulQ(i, n);
      boolean none = heldMicros >= q + (mulR(i, n) > 0 ? 1 : 0);
      args[1 + 2 * i] = ascii(none ? 0 : q - heldMicros);
      args[2 + 2 * i] = ascii(none ? 0 : mulR(i, n));
    }
    return args;
  }

  private byte[][] costs(byte[] op, long permits) {
    byte[][] args = new byte[1 + 2 * limits][];
    args[0] = op;
    for (int i = 0; i < limits; i++) {
      long n = Math.min(permits, capacity[i]);
      // a take of more than the capacity costs the fill time plus 1 µs: the script refuses it
      long more = op == TAKE && permits > capacity[i] ? 1 : 0;
      args[1 + 2 * i] = ascii(mulQ(i, n) + more);
      args[2 + 2 * i] = ascii(mulR(i, n));
    }
    return args;
  }

  /**
   * A key's part of ARGV to reserve {@code permits} (at most the smallest capacity) if they are
   * due within {@code maxWaitMicros}: per limit the time to earn them, then the bound.
   */
  byte[][] reserve(long permits, long maxWaitMicros) {
    byte[][] take = costs(TAKE, permits);
    byte[][] args = new byte[take.length + 1][];
    System.arraycopy(take, 0, args, 0, take.length);
    args[0] = RESERVE;
    args[take.length] = ascii(maxWaitMicros);
    return args;
  }

  /**
   * A key's part of ARGV to cancel a reservation that wrote {@code wrote} over {@code before}
   * (empty: no key) and is due at {@code dueMicros} on the script's clock.
   */
  byte[][] cancel(byte[] wrote, byte[] before, long dueMicros) {
    byte[][] args = new byte[1 + 2 * limits + 3][];
    args[0] = CANCEL;
    for (int i = 1; i <= 2 * limits; i++) {
      args[i] = ZERO;
    }
    args[1 + 2 * limits] = wrote;
    args[2 + 2 * limits] = before;
    args[3 + 2 * limits] = ascii(dueMicros);
    return args;
  }

  /**
   * A key's part of ARGV to take {@code permits} (the decision, as {@link #take}) and lease
   * {@code k} more (0: none) as lease {@code leaseId} for {@code lifeMicros} by Redis's clock,
   * after giving back lease {@code returnId} (0: none) with {@code unused} of its permits (see
   * bucket.lua, op 5). {@code k} and {@code unused} are at most the smallest capacity.
   */
  byte[][] lease(long permits, long leaseId, long k, long lifeMicros, long returnId,
      long unused) {
    byte[][] take = take(permits);
    byte[][] args = new byte[1 + 2 * limits + 4 + 4 * limits][];
    System.arraycopy(take, 0, args, 0, take.length);
    args[0] = LEASE;
    int a = 1 + 2 * limits;
    args[a] = ascii(leaseId);
    args[a + 1] = ascii(k);
    args[a + 2] = ascii(lifeMicros);
    cost(args, a + 3, k);
    args[a + 3 + 2 * limits] = ascii(returnId);
    cost(args, a + 4 + 2 * limits, unused);
    return args;
  }

  /** A key's part of ARGV to give back lease {@code returnId} with {@code unused} permits (op 6). */
  byte[][] giveBack(long returnId, long unused) {
    byte[][] args = new byte[2 + 2 * limits][];
    args[0] = GIVE_BACK;
    cost(args, 1, unused);
    args[1 + 2 * limits] = ascii(returnId);
    return args;
  }

  /** The time to earn {@code n} (0 to the smallest capacity) per limit, at {@code args[at..]}. */
  private void cost(byte[][] args, int at, long n) {
    for (int i = 0; i < limits; i++) {
      args[at + 2 * i] = ascii(mulQ(i, n));
      args[at + 2 * i + 1] = ascii(mulR(i, n));
    }
  }

  /** The bytes of one stored bucket of this policy. */
  int valueLength() {
    return 16 * limits;
  }

  /** A key's part of ARGV to look at its bucket, taking nothing. */
  byte[][] look() {
    return look;
  }

  /** The policy's part of ARGV, which comes first. */
  byte[][] head() {
    return head;
  }

  /** The number of limits, which fixes the shape of the script's reply. */
  int limits() {
    return limits;
  }

  /**
   * The decision in the script's reply to a take of {@code permits}.
   *
   * @throws IllegalStateException if the reply is for another number of limits
   */
  Decision decide(KeyReply reply, long permits) {
    check(reply);
    boolean admitted = reply.applied();
    long remaining = Long.MAX_VALUE;
    int binding = 0;
    long reset = 0;
    long retry = 1;
    int exceeded = -1;
    long exceededRemaining = 0;
    for (int i = 0; i < limits; i++) {
      long a = reply.a(i);
      long r = reply.r(i);
      long k = permitsIn(i, a, r);
      if (k < remaining) {
        remaining = k;
        binding = i;
      }
      reset = Math.max(reset, fillQ[i] - a + ceilFraction(i, fillR[i] + r));
      if (permits > capacity[i]) {
        // the limit a request can never fit binds: the smallest capacity it exceeds
        if (exceeded < 0 || capacity[i] < capacity[exceeded]) {
          exceeded = i;
          exceededRemaining = k;
        }
      } else if (!admitted) {
        retry = Math.max(retry, mulQ(i, permits) - a + ceilFraction(i, mulR(i, permits) + r));
      }
    }
    long resetNanos = reset * 1000;
    if (admitted) {
      return Decision.allowed(policy, binding, remaining, resetNanos);
    }
    if (exceeded >= 0) {
      return Decision.exceedsCapacity(policy, exceeded, exceededRemaining, resetNanos);
    }
    return Decision.denied(policy, binding, remaining, retry * 1000, resetNanos);
  }

  /**
   * The whole permits available in the script's reply (to a look, or after any operation).
   *
   * @throws IllegalStateException if the reply is for another number of limits
   */
  long available(KeyReply reply) {
    check(reply);
    long remaining = Long.MAX_VALUE;
    for (int i = 0; i < limits; i++) {
      remaining = Math.min(remaining, permitsIn(i, reply.a(i), reply.r(i)));
    }
    return remaining;
  }

  /**
   * A refusal answered again, {@code elapsedMicros} after the script refused with
   * {@code refusal}, for a request of {@code permits} (at most the smallest capacity): the
   * permits earned since (none taken), the wait for {@code permits} from there, and the given
   * time until full.
   */
  Decision refusalLater(KeyReply refusal, long elapsedMicros, long permits, long resetNanos) {
    long remaining = Long.MAX_VALUE;
    int binding = 0;
    long retry = 1;
    for (int i = 0; i < limits; i++) {
      long a = refusal.a(i) + elapsedMicros;
      long r = refusal.r(i);
      long k = permitsIn(i, a, r);
      if (k < remaining) {
        remaining = k;
        binding = i;
      }
      retry = Math.max(retry, mulQ(i, permits) - a + ceilFraction(i, mulR(i, permits) + r));
    }
    return Decision.denied(policy, binding, remaining, retry * 1000, resetNanos);
  }

  /** A bucket converted to this policy: its value, and its time to live in milliseconds. */
  record Converted(byte[] value, long pxMillis) {}

  /**
   * The carry-over rule, exactly: {@code value} is a bucket of policy {@code from} as the script
   * stored it, read at {@code now} (µs); the result is the same bucket under this policy. Each
   * limit keeps the permits the limit at the same position held at {@code now} (capped at its
   * new capacity), and refills at the new rate from then: {@code emptyAt' = now - p T'} with
   * {@code p = min(C', tokens(now))}, rounded toward fewer permits (a later {@code emptyAt'})
   * where the new grain ({@code 1/den'} µs) cannot hold it; a limit in debt is empty no earlier
   * than it was ({@code emptyAt' = max(that, emptyAt)}), as in the core. A limit with no counterpart starts
   * as a new bucket's would. The time to live is the time until full, at least 1 ms. Leases
   * stored after the bucket (see {@code Leases}): the old bucket's permits are capped at
   * {@code C - held} by all of them, and the unexpired ones move to the new bucket (same id,
   * permits and expiry, their costs under this policy), so the new capacity counts them too.
   *
   * @throws IllegalStateException if {@code value} is not a bucket of {@code from}
   */
  Converted convert(BucketMath from, byte[] value, long now) {
    int bucket = 16 * from.limits;
    int lease = 8 * (3 + 2 * from.limits);
    if (value.length < bucket || (value.length - bucket) % lease != 0) {
      throw new IllegalStateException("a bucket of " + value.length + " bytes, expected "
          + bucket + " and leases of " + lease + " for " + from.policy);
    }
    ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    // leases (see bucket.lua): every one, expired or not, is held here (its expiry's clamp is
    // then at now: fewer permits, never more); the unexpired ones move to the new bucket, their
    // costs under this policy, so their holders' permits count against the new capacity too
    int leases = (value.length - bucket) / lease;
    BigInteger[] held = new BigInteger[from.limits];
    Arrays.fill(held, BigInteger.ZERO);
    List<long[]> live = new ArrayList<>();
    for (int j = 0; j < leases; j++) {
      int at = bucket + j * lease;
      for (int i = 0; i < from.limits; i++) {
        held[i] = held[i].add(BigInteger.valueOf((long) in.getDouble(at + 24 + 16 * i))
            .multiply(BigInteger.valueOf(from.den[i]))
            .add(BigInteger.valueOf((long) in.getDouble(at + 32 + 16 * i))));
      }
      long x = (long) in.getDouble(at + 16);
      if (x > now) {
        live.add(new long[] {(long) in.getDouble(at), (long) in.getDouble(at + 8), x});
      }
    }
    int newLease = 8 * (3 + 2 * limits);
    ByteBuffer out = ByteBuffer.allocate(16 * limits + live.size() * newLease)
        .order(ByteOrder.LITTLE_ENDIAN);
    BigInteger nowB = BigInteger.valueOf(now);
    long untilFull = 0;
    for (int i = 0; i < limits; i++) {
      BigInteger denN = BigInteger.valueOf(den[i]);
      // the new empty instant, in units of 1/den' µs
      BigInteger u;
      if (i < from.limits) {
        long q = (long) in.getDouble(16 * i);
        long r = (long) in.getDouble(16 * i + 8);
        BigInteger denO = BigInteger.valueOf(from.den[i]);
        BigInteger numO = BigInteger.valueOf(from.num[i]);
        // x = tokens(now) * num_o, capped at both capacities (the old bucket is never fuller
        // than C, and the new one keeps at most C')
        BigInteger x = nowB.subtract(BigInteger.valueOf(q)).multiply(denO)
            .subtract(BigInteger.valueOf(r));
        x = x.min(BigInteger.valueOf(from.capacity[i]).multiply(numO).subtract(held[i]))
            .min(BigInteger.valueOf(capacity[i]).multiply(numO));
        // p T' den' = x num' / num_o, rounded down: emptyAt' rounded up
        BigInteger[] qr = x.multiply(BigInteger.valueOf(num[i])).divideAndRemainder(numO);
        BigInteger taken = qr[0];
        if (qr[1].signum() < 0) {
          taken = taken.subtract(BigInteger.ONE);
        }
        if (x.signum() < 0) {
          // in debt: empty no earlier than it was (x den'/den_o, rounded later)
          BigInteger[] tq = x.multiply(denN).divideAndRemainder(denO);
          taken = taken.min(tq[1].signum() < 0 ? tq[0].subtract(BigInteger.ONE) : tq[0]);
        }
        u = nowB.multiply(denN).subtract(taken);
      } else {
        // a new bucket: now - init
        u = nowB.multiply(denN).subtract(BigInteger.valueOf(initQ[i]).multiply(denN)
            .add(BigInteger.valueOf(initR[i])));
      }
      BigInteger[] qr = u.divideAndRemainder(denN);
      long q = qr[0].longValueExact();
      long r = qr[1].longValueExact();
      if (r < 0) {
        q -= 1;
        r += den[i];
      }
      out.putDouble(16 * i, q);
      out.putDouble(16 * i + 8, r);
      // until full = emptyAt' + fill - now, rounded up to a whole microsecond
      long full = q + fillQ[i] - now + (r + fillR[i] > den[i] ? 2 : r + fillR[i] > 0 ? 1 : 0);
      untilFull = Math.max(untilFull, full);
    }
    for (int j = 0; j < live.size(); j++) {
      long[] l = live.get(j);
      int at = 16 * limits + j * newLease;
      out.putDouble(at, l[0]);
      out.putDouble(at + 8, l[1]);
      out.putDouble(at + 16, l[2]);
      for (int i = 0; i < limits; i++) {
        out.putDouble(at + 24 + 16 * i, mulQ(i, l[1]));
        out.putDouble(at + 32 + 16 * i, mulR(i, l[1]));
        // the key lives until its last lease has expired, plus the fill time (as the script's)
        untilFull = Math.max(untilFull, l[2] + fillQ[i] + 1 - now);
      }
    }
    long ms = untilFull / 1000 + (untilFull % 1000 > 0 ? 1 : 0);
    return new Converted(out.array(), Math.max(1, ms));
  }

  /** The smallest capacity: a request for more can never succeed. */
  long minCapacity() {
    return minCapacity;
  }

  /** {@code ceil(x / den)} for {@code 0 <= x < 2 den}. */
  private long ceilFraction(int i, long x) {
    return x == 0 ? 0 : x <= den[i] ? 1 : 2;
  }

  /**
   * Whole permits earned over the span {@code a - r/den} µs: {@code floor((a den - r) / num)},
   * 0 if the span is not positive, at most the capacity.
   */
  private long permitsIn(int i, long a, long r) {
    if (a <= 0) {
      return 0;
    }
    long hi = Math.multiplyHigh(a, den[i]);
    long lo = a * den[i];
    long k;
    if (hi == 0 && lo >= 0) {
      k = (lo - r) / num[i];
    } else {
      k = BigInteger.valueOf(a).multiply(BigInteger.valueOf(den[i])).subtract(BigInteger.valueOf(r))
          .divide(BigInteger.valueOf(num[i])).min(BigInteger.valueOf(capacity[i])).longValue();
    }
    return Math.min(k, capacity[i]);
  }

  private void check(KeyReply reply) {
    if (reply.limits() != limits) {
      throw new IllegalStateException(
          "a script reply for " + reply.limits() + " limits, expected " + limits);
    }
  }

  static byte[] ascii(long v) {
    return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
  }
}
