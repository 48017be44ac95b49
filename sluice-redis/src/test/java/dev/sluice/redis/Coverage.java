package dev.sluice.redis;

import dev.sluice.Decision;
import java.util.ArrayList;
import java.util.List;

/**
 * What one sequential caller of a single-limit limiter can vouch for, from the decisions it got:
 * when the bucket was not full (the rest of the run is where refill may have been wasted), and
 * how many permits it can hold at most at the end.
 *
 * <h2>Why</h2>
 * A bucket of capacity {@code C} earning a permit every {@code T} that is full at the start of a
 * run of length {@code E} holds at its end {@code C + E/T - taken - wasted}, where
 * {@code wasted} is the refill lost while it was full, so
 * {@code taken = C + E/T - wasted - held at the end}: a lower bound on admissions needs an upper
 * bound on the waste and on what is left. What the store guarantees gives both. An admission is
 * Redis's, exact: with
 * {@code k} permits remaining the bucket holds less than {@code k + 1}, so it cannot be full for
 * the next {@code (C - k - 1) T}. A refusal of one permit, by Redis or by the deny cache (which
 * refuses only what Redis would refuse), means less than one permit: not full for
 * {@code (C - 1) T}. The script runs somewhere within the call, from {@code start} to
 * {@code end}, so the caller can vouch for {@code [end, start + (C - k - 1) T]}. Waste can only
 * happen outside what some caller vouched for: {@code wasted <= |uncovered| / T}. And after a
 * caller's last decision the bucket held less than {@code k + 1}, then earned at most one
 * permit per {@code T}: at the end {@code t} it holds less than
 * {@code k + 1 + (t - start) / T}. Failures, stalls, a machine too loaded to ask: each weakens
 * the bound by what it really cost, no more, and nothing is assumed about how fast a quiet
 * machine would have asked.
 *
 * <p>One thread writes (the caller); read only after it has stopped (join).
 */
final class Coverage {

  private final long capacity;
  private final long periodNanos;
  private final long permits;
  /** Disjoint, in order, in nanoseconds since the start of the run. */
  private final List<long[]> spans = new ArrayList<>();
  private long origin;
  /** The last decision's start (since the run's) and its {@code k}; -1 before the first. */
  private long lastStart;
  private long lastK = -1;

  /** A caller of a limit of {@code capacity} earning {@code permits} every {@code periodNanos}. */
  Coverage(long capacity, long permits, long periodNanos) {
    this.capacity = capacity;
    this.permits = permits;
    this.periodNanos = periodNanos;
  }

  /** The run starts at {@code at} (nanoTime), the same instant for every caller. */
  void begin(long at) {
    origin = at;
  }

  /** A decision of one permit by the store, in a call from {@code start} to {@code end}. */
  void decided(long start, long end, Decision d) {
    long k = d.allowed() ? d.remaining() : 0;
    lastStart = start - origin;
    lastK = k;
    // (C - k - 1) T, rounded down
    long notFull = Math.multiplyExact(capacity - k - 1, periodNanos) / permits;
    long from = end - origin;
    long to = start - origin + notFull;
    if (to <= from) {
      return;
    }
    long[] last = spans.isEmpty() ? null : spans.get(spans.size() - 1);
    if (last != null && from <= last[1]) {
      last[1] = Math.max(last[1], to);
    } else {
      spans.add(new long[] {from, to});
    }
  }

  /**
   * The most permits the bucket can hold {@code runNanos} after the start of the run, as far as
   * the last decision of any of {@code callers} (begun together) tells: at most the capacity.
   */
  static double heldAtMost(List<Coverage> callers, long runNanos) {
    double most = callers.get(0).capacity;
    for (Coverage c : callers) {
      if (c.lastK >= 0) {
        double earned = (double) (runNanos - c.lastStart) * c.permits / c.periodNanos;
        most = Math.min(most, c.lastK + 1 + earned);
      }
    }
    return most;
  }

  /**
   * Nanoseconds of the run, {@code runNanos} long, for which none of {@code callers} (begun
   * together) vouched.
   */
  static long uncovered(List<Coverage> callers, long runNanos) {
    List<long[]> all = new ArrayList<>();
    for (Coverage c : callers) {
      all.addAll(c.spans);
    }
    all.sort((x, y) -> Long.compare(x[0], y[0]));
    long covered = 0;
    long reach = 0;
    for (long[] s : all) {
      long from = Math.max(s[0], reach);
      long to = Math.min(s[1], runNanos);
      if (to > from) {
        covered += to - from;
      }
      reach = Math.max(reach, s[1]);
    }
    return runNanos - covered;
  }
}
