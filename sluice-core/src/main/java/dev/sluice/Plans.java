package dev.sluice;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * Policies per key: named plans ("free", "pro"…), a function that assigns each key a plan, and
 * live changes. A {@link RateLimiter} built with plans decides every key under the policy of the
 * plan its key is assigned now:
 *
 * <pre>{@code
 * Plans<String> plans = Plans.<String>builder()
 *     .plan("free", Policy.of(Limit.perSecond(2).withCapacity(3), Limit.perHour(1000)))
 *     .plan("pro", Policy.of(Limit.perSecond(10)))
 *     .assign(key -> key.startsWith("pro-") ? "pro" : "free")
 *     .build();
 * RateLimiter<String> limiter = RateLimiter.builder(plans).build();
 * plans.update("pro", Policy.of(Limit.perSecond(20)));   // live: every pro key, next decision
 * }</pre>
 *
 * <p><b>Changes keep state.</b> When a key's policy changes (its plan was updated, or the key
 * was assigned another plan: an upgrade), its bucket is converted at its next decision by the
 * carry-over rule: each limit keeps the permits the limit at the same position held at that
 * instant, capped at its new capacity, and refills at the new rate from then; a limit with no
 * counterpart starts as a new bucket's would. The conversion is atomic with respect to every
 * decision on the key: none mixes the old and new limits.
 *
 * <p>Thread-safe. The function is called on the deciding thread, once per decision: keep it fast
 * (no I/O) and deterministic. Plan names are fixed at build; {@link #update} replaces a plan's
 * policy. A decision costs the function and one map lookup more than a one-policy limiter.
 *
 * @param <K> the key type
 */
public final class Plans<K> {

  /** One plan: a name and its current policy. */
  private static final class Slot {
    final String name;
    volatile Policy policy;

    Slot(String name, Policy policy) {
      this.name = name;
      this.policy = policy;
    }
  }

  private final Map<String, Slot> slots;
  /** The open limiters built over these plans (or a copy {@link #keyedBy} made; shared). */
  private final List<RateLimiter<?>> limiters;
  private final Function<? super K, String> assign;
  private final Slot first;

  private Plans(Map<String, Slot> slots, Function<? super K, String> assign,
      List<RateLimiter<?>> limiters) {
    this.slots = slots;
    this.limiters = limiters;
    this.assign = assign;
    this.first = slots.values().iterator().next();
  }

  /**
   * A builder of plans for keys of type {@code K}: {@code Plans.<String>builder()}.
   *
   * @param <K> the key type
   * @return a builder
   */
  public static <K> Builder<K> builder() {
    return new Builder<>();
  }

  /**
   * The policy {@code key} is decided under now: the policy of the plan the function assigns it.
   *
   * @param key the key, not null
   * @return its policy, never null
   * @throws IllegalStateException if the function returns null or a name that is not a plan
   */
  public Policy policyFor(K key) {
    String name = assign.apply(key);
    Slot slot = name == null ? null : slots.get(name);
    if (slot == null) {
      throw new IllegalStateException("the plan function returned "
          + (name == null ? "null" : "\"" + name + "\"") + " for a key; the plans are "
          + slots.keySet());
    }
    return slot.policy;
  }

  /**
   * Replaces a plan's policy, at once, for the next decision of every key on it; each key keeps
   * its state by the carry-over rule.
   *
   * @param plan a plan's name
   * @param policy its new policy
   * @throws IllegalArgumentException if there is no such plan
   */
  public void update(String plan, Policy policy) {
    Objects.requireNonNull(policy, "policy");
    Slot slot = slot(plan);
    synchronized (slots) { // shared with every copy keyedBy made
      Policy old = slot.policy;
      // the limiters' stores learn of it first: a call still carrying the old policy must not
      // convert a key back (unless another plan still has that policy: then it stays current);
      // the new policy is current in any case (it may have been replaced before)
      if (!old.equals(policy)) {
        Policy replaced = heldByAnotherPlan(slot, old) ? policy : old;
        for (RateLimiter<?> limiter : limiters) {
          limiter.replaced(replaced, policy);
        }
      }
      slot.policy = policy;
    }
  }

  private boolean heldByAnotherPlan(Slot slot, Policy policy) {
    for (Slot s : slots.values()) {
      if (s != slot && s.policy.equals(policy)) {
        return true;
      }
    }
    return false;
  }

  /** Registers a limiter built over these plans, to hear of replaced policies. */
  void attach(RateLimiter<?> limiter) {
    limiters.add(limiter);
  }

  /** Forgets a limiter that was closed. */
  void detach(RateLimiter<?> limiter) {
    limiters.remove(limiter);
  }

  /**
   * A plan's current policy.
   *
   * @param plan a plan's name
   * @return its policy
   * @throws IllegalArgumentException if there is no such plan
   */
  public Policy policy(String plan) {
    return slot(plan).policy;
  }

  /**
   * The plans and their current policies, in the order they were added.
   *
   * @return an unmodifiable snapshot
   */
  public Map<String, Policy> plans() {
    Map<String, Policy> out = new LinkedHashMap<>();
    slots.forEach((name, slot) -> out.put(name, slot.policy));
    return Collections.unmodifiableMap(out);
  }

  /**
   * These plans for keys of another type: the same plans, shared live (an {@link #update} of
   * either is an update of both), each key {@code j} assigned the plan this object assigns
   * {@code key.apply(j)}. For a limiter whose keys are not what the plans are written over (the
   * HTTP layer keys its buckets by a hash of the material its resolvers return, and assigns plans
   * by the material).
   *
   * @param key from the new key type to this one's; called once per decision, thread-safe
   * @param <J> the new key type
   * @return plans for keys of type {@code J}
   */
  public <J> Plans<J> keyedBy(Function<? super J, ? extends K> key) {
    Objects.requireNonNull(key, "key");
    return new Plans<>(slots, j -> assign.apply(key.apply(j)), limiters);
  }

  /** The first plan's policy: the one a store is created for. */
  Policy first() {
    return first.policy;
  }

  /** Every plan's current policy (for checks that must hold for any key). */
  List<Policy> policies() {
    return List.copyOf(plans().values());
  }

  private Slot slot(String plan) {
    Objects.requireNonNull(plan, "plan");
    Slot slot = slots.get(plan);
    if (slot == null) {
      throw new IllegalArgumentException(
          "plan \"" + plan + "\" is not one of " + slots.keySet());
    }
    return slot;
  }

  @Override
  public String toString() {
    return "Plans" + plans();
  }

  /**
   * Builds {@link Plans}. Not thread-safe.
   *
   * @param <K> the key type
   */
  public static final class Builder<K> {

    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private Function<? super K, String> assign;

    private Builder() {}

    /**
     * Adds a plan.
     *
     * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}, not already added
     * @param policy its policy
     * @return this builder
     */
    public Builder<K> plan(String name, Policy policy) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(policy, "policy");
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(
            "plan name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
      }
      if (slots.containsKey(name)) {
        throw new IllegalArgumentException("plan \"" + name + "\" is added twice");
      }
      slots.put(name, new Slot(name, policy));
      return this;
    }

    /**
     * How keys are assigned plans: a function from a key to a plan's name. Called once per
     * decision; it must return one of the plans' names (null or another name is an error, never
     * a default).
     *
     * @param assign the function
     * @return this builder
     */
    public Builder<K> assign(Function<? super K, String> assign) {
      this.assign = Objects.requireNonNull(assign, "assign");
      return this;
    }

    /**
     * Builds the plans.
     *
     * @return the plans
     * @throws IllegalStateException if no plan was added, or no assignment was given while there
     *     are several plans (one plan needs none)
     */
    public Plans<K> build() {
      if (slots.isEmpty()) {
        throw new IllegalStateException("plans need at least one plan");
      }
      Function<? super K, String> f = assign;
      if (f == null) {
        if (slots.size() > 1) {
          throw new IllegalStateException(
              "plans " + slots.keySet() + " need an assignment: Builder.assign(key -> plan)");
        }
        String only = slots.keySet().iterator().next();
        f = key -> only;
      }
      return new Plans<>(new LinkedHashMap<>(slots), f, new CopyOnWriteArrayList<>());
    }
  }
}
