package dev.sluice;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One or more {@link Limit}s applied together, all-or-nothing: a request is admitted only if
 * every limit has the permits for it, and a request that any limit refuses takes nothing from
 * the others. For example 10 per second and 1000 per hour:
 *
 * <pre>{@code
 * Policy policy = Policy.of(Limit.perSecond(10), Limit.perHour(1000));
 * }</pre>
 *
 * <p>A one-limit policy with a whole-nanosecond emission interval (1/s, 10/s, 100/min,
 * 1000/h…) takes the fastest path: one compare-and-set on one {@code long}, no allocation. Other
 * policies (several limits, or a fractional interval such as 7/s) are exact too, and cost one
 * small immutable state object per admitted request.
 *
 * @param limits the limits, at least one; checked in order
 */
public record Policy(List<Limit> limits) {

  /** The most limits one policy may carry. */
  public static final int MAX_LIMITS = 16;

  /**
   * Copies and checks the list.
   *
   * @param limits the limits, at least one
   * @throws IllegalArgumentException if there are no limits or more than {@value #MAX_LIMITS}
   * @throws NullPointerException if the list or an element is null
   */
  public Policy {
    Objects.requireNonNull(limits, "limits");
    for (int i = 0; i < limits.size(); i++) {
      Objects.requireNonNull(limits.get(i), "limits[" + i + "]");
    }
    limits = List.copyOf(limits);
    if (limits.isEmpty() || limits.size() > MAX_LIMITS) {
      throw new IllegalArgumentException(
          "a policy needs between 1 and " + MAX_LIMITS + " limits, got " + limits.size());
    }
  }

  /**
   * A policy of the given limits.
   *
   * @param limits at least one limit
   * @return the policy
   */
  public static Policy of(Limit... limits) {
    Objects.requireNonNull(limits, "limits");
    return new Policy(Arrays.asList(limits));
  }

  /**
   * The smallest capacity among the limits: a request for more permits can never succeed.
   *
   * @return the smallest capacity
   */
  public long maxPermitsPerRequest() {
    long min = Long.MAX_VALUE;
    for (Limit l : limits) {
      min = Math.min(min, l.capacity());
    }
    return min;
  }
}
