package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import java.util.List;
import java.util.Set;

/**
 * Writes the rate-limit headers. Every time is whole seconds rounded up, so a client that waits
 * what it is told is never early.
 *
 * <p>{@code RateLimit-Policy} describes a token bucket as "q permits per w seconds" with
 * {@code q} the capacity and {@code w} the time an empty bucket takes to fill: a client that
 * spends {@code q} permits at most once every {@code w} seconds is never refused. {@code RateLimit}
 * then reports {@code r}, the whole permits left, and {@code t}, the seconds until the bucket is
 * full again (the same as {@code X-RateLimit-Reset}). A rule of several limits lists each as
 * {@code "<rule>.1"}, {@code "<rule>.2"}, ...; its {@code RateLimit} item names the limit that
 * bound the decision ({@link Decision#bindingIndex()}: the one with the fewest permits left), and
 * its {@code t} is the time until every limit of the rule is full (for
 * that limit an upper bound: never too early). Rule names are restricted to
 * {@code [A-Za-z0-9._-]}, so they need no escaping inside a Structured Fields string.
 */
final class Headers {

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** The decimal text of 0 to 4095, built once: most counts and waits in headers are small. */
  private static final String[] SMALL = new String[4096];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = Integer.toString(i);
    }
  }

  private Headers() {}

  /** Decimal text of {@code n >= 0}, without allocating for small values. */
  static String number(long n) {
    return n >= 0 && n < SMALL.length ? SMALL[(int) n] : Long.toString(n);
  }

  /** Seconds rounded up. */
  static long ceilSeconds(long nanos) {
    return nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND == 0 ? 0 : 1);
  }

  /** {@code Retry-After}: seconds rounded up, at least 1. */
  static long retryAfterSeconds(long retryAfterNanos) {
    return Math.max(1, ceilSeconds(retryAfterNanos));
  }

  /**
   * The enabled groups' headers, as name and value pairs: {@code [name0, value0, name1, ...]}.
   *
   * @param outcomes the rules that applied; a rule with no decision (or a refunded one) is
   *     listed in {@code RateLimit-Policy} only; a rule left out of the headers
   *     ({@link Rule#headers()}) is not listed at all
   * @param binding the decision the X-RateLimit group and Retry-After describe; one with a
   *     bucket behind it ({@link HttpLimiter#counted}), of a rule the headers describe
   * @param limiter tells each key's policy (a rule over plans has one per key)
   */
  static String[] build(Set<HeaderGroup> groups, List<Outcome> outcomes, Outcome binding,
      HttpLimiter limiter) {
    Decision d = binding.decision;
    boolean retry = groups.contains(HeaderGroup.RETRY_AFTER) && !d.allowed() && d.canEverSucceed();
    String[] h = new String[(groups.contains(HeaderGroup.X_RATELIMIT) ? 6 : 0)
        + (groups.contains(HeaderGroup.IETF) ? 4 : 0) + (retry ? 2 : 0)];
    int n = 0;
    if (groups.contains(HeaderGroup.X_RATELIMIT)) {
      h[n++] = "X-RateLimit-Limit";
      h[n++] = number(d.limit());
      h[n++] = "X-RateLimit-Remaining";
      h[n++] = number(d.remaining());
      h[n++] = "X-RateLimit-Reset";
      h[n++] = number(ceilSeconds(d.resetAfterNanos()));
    }
    if (groups.contains(HeaderGroup.IETF)) {
      String policyValue;
      String stateValue;
      if (outcomes.size() == 1) {
        Outcome o = outcomes.get(0);
        PolicyText text = text(o, limiter);
        policyValue = text.ietfPolicy;
        stateValue = state(o, text);
      } else {
        // Only decisions with a bucket behind them are described (a failure mode's are not).
        StringBuilder policy = new StringBuilder(64);
        StringBuilder state = new StringBuilder(48);
        for (Outcome o : outcomes) {
          if (!o.rule.headers()) {
            continue;
          }
          PolicyText text = text(o, limiter);
          if (policy.length() > 0) {
            policy.append(", ");
          }
          policy.append(text.ietfPolicy);
          if (o.decision != null && HttpLimiter.counted(o.decision)) {
            if (state.length() > 0) {
              state.append(", ");
            }
            state.append(state(o, text));
          }
        }
        policyValue = policy.toString();
        stateValue = state.toString();
      }
      h[n++] = "RateLimit-Policy";
      h[n++] = policyValue;
      h[n++] = "RateLimit";
      h[n++] = stateValue;
    }
    if (retry) {
      h[n++] = "Retry-After";
      h[n++] = number(retryAfterSeconds(d.retryAfterNanos()));
    }
    return h;
  }

  /** {@code "<name>";q=<capacity>;w=<seconds to fill>} for each limit of a rule. */
  static String policyItems(String rule, Policy p) {
    StringBuilder sb = new StringBuilder(32);
    List<Limit> limits = p.limits();
    for (int i = 0; i < limits.size(); i++) {
      Limit l = limits.get(i);
      if (i > 0) {
        sb.append(", ");
      }
      sb.append('"').append(itemName(rule, limits.size(), i)).append("\";q=").append(l.capacity())
          .append(";w=").append(Math.max(1, ceilSeconds(l.fillTime().toNanos())));
    }
    return sb.toString();
  }

  /**
   * {@code "<name>";r=<remaining>;t=<seconds until full>} for a decided rule: its item's
   * constant head, built once per limit, and the two numbers (one string, sized exactly).
   */
  private static String state(Outcome o, PolicyText text) {
    Decision d = o.decision;
    int i = text.describes(d.bindingIndex(), d.limit()) ? d.bindingIndex() : 0; // 0: the fallback
    return text.stateItemPrefix(i) + d.remaining() + ";t="
        + ceilSeconds(d.resetAfterNanos());
  }

  /**
   * The texts of the policy {@code o}'s key is decided under: the rule's own, or with plans (or
   * a limiter updated live) the key's now. Should a change land between the decision and this
   * (a decision bound by a limit the policy read now does not have), the headers describe the
   * decision's binding limit alone, so they never name a limit the decision was not made under.
   */
  private static PolicyText text(Outcome o, HttpLimiter limiter) {
    PolicyText text = o.rule.text(limiter.policyOf(o));
    Decision d = o.decision;
    if (d == null || !HttpLimiter.counted(d) || text.describes(d.bindingIndex(), d.limit())) {
      return text;
    }
    return new PolicyText(o.rule.name(), Policy.of(d.bindingLimit().orElseThrow()));
  }

  /** {@code "<name>";r=} for limit {@code i} of a rule: the constant head of its state item. */
  static String stateItemPrefix(String rule, Policy p, int i) {
    return '"' + itemName(rule, p.limits().size(), i) + "\";r=";
  }

  /** A one-limit rule is its own policy; the limits of a several-limit rule are "name.1", ... */
  private static String itemName(String rule, int limits, int index) {
    return limits == 1 ? rule : rule + "." + (index + 1);
  }

}
