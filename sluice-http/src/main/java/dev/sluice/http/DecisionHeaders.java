package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.Policy;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The rate-limit headers of one decision under one named policy, for adapters that decide
 * through a {@link dev.sluice.RateLimiter} themselves instead of through {@link HttpLimiter}
 * (the Spring Cloud Gateway one): the same names and values {@link HttpLimiter} writes for a
 * one-rule request, in the same order (see {@link HeaderGroup}). Built once per (name, policy);
 * immutable and thread-safe.
 *
 * <p>A decision with no bucket behind it (a fail-open admission or a fail-closed refusal, see
 * {@link Decision#source()}) has no headers. A decision bound by a limit the policy does not
 * have (the policy changed between the decision and this call) is described by its binding
 * limit alone, so the headers never name a limit the decision was not made under.
 */
public final class DecisionHeaders {

  private final String name;
  private final Set<HeaderGroup> groups;
  private final PolicyText text;

  private DecisionHeaders(String name, Policy policy, Set<HeaderGroup> groups) {
    this.name = name;
    this.groups = groups;
    this.text = new PolicyText(name, policy);
  }

  /**
   * The headers of decisions made under {@code policy}.
   *
   * @param name the name the IETF fields give the policy: 1 to 64 characters from
   *     {@code [A-Za-z0-9._-]}
   * @param policy the policy the decisions are made under
   * @param groups the header groups to write; none writes nothing
   * @return the headers
   * @throws IllegalArgumentException if the name is not 1 to 64 characters from
   *     {@code [A-Za-z0-9._-]}
   */
  public static DecisionHeaders of(String name, Policy policy, Set<HeaderGroup> groups) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(groups, "groups");
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "header name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
    }
    Set<HeaderGroup> copy = EnumSet.noneOf(HeaderGroup.class);
    copy.addAll(groups);
    return new DecisionHeaders(name, policy, copy);
  }

  /**
   * Writes the headers of {@code d}, each as a name and a value; nothing for a decision with no
   * bucket behind it.
   *
   * @param d a decision made under this policy
   * @param writer receives each header
   */
  public void forEach(Decision d, BiConsumer<String, String> writer) {
    Objects.requireNonNull(d, "d");
    Objects.requireNonNull(writer, "writer");
    if (!HttpLimiter.counted(d)) {
      return;
    }
    if (groups.contains(HeaderGroup.X_RATELIMIT)) {
      writer.accept("X-RateLimit-Limit", Headers.number(d.limit()));
      writer.accept("X-RateLimit-Remaining", Headers.number(d.remaining()));
      writer.accept("X-RateLimit-Reset", Headers.number(Headers.ceilSeconds(d.resetAfterNanos())));
    }
    if (groups.contains(HeaderGroup.IETF)) {
      PolicyText t = text.describes(d.bindingIndex(), d.limit()) ? text
          : new PolicyText(name, Policy.of(d.bindingLimit().orElseThrow()));
      int i = t.describes(d.bindingIndex(), d.limit()) ? d.bindingIndex() : 0;
      writer.accept("RateLimit-Policy", t.ietfPolicy);
      writer.accept("RateLimit", t.stateItemPrefix(i) + d.remaining() + ";t="
          + Headers.ceilSeconds(d.resetAfterNanos()));
    }
    if (groups.contains(HeaderGroup.RETRY_AFTER) && !d.allowed() && d.canEverSucceed()) {
      writer.accept("Retry-After", Headers.number(Headers.retryAfterSeconds(d.retryAfterNanos())));
    }
  }

  /**
   * The policy these headers describe.
   *
   * @return the policy
   */
  public Policy policy() {
    return text.policy;
  }

  @Override
  public String toString() {
    return "DecisionHeaders[" + name + ", " + text.policy + ", " + groups + "]";
  }
}
