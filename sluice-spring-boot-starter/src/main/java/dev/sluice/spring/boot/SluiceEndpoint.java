package dev.sluice.spring.boot;

import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.http.Rule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * {@code /actuator/sluice}: the rules and their plans as in force now (after live changes), the
 * store and whether it answers, the Redis circuit breakers' states, the failure mode, the keys
 * each rule holds, and the changes that wait for a restart.
 */
@Endpoint(id = "sluice")
public final class SluiceEndpoint {

  private final Sluice sluice;

  /**
   * The endpoint over the application's limits.
   *
   * @param sluice the limits
   */
  public SluiceEndpoint(Sluice sluice) {
    this.sluice = sluice;
  }

  /**
   * The state, as JSON-ready maps and lists.
   *
   * @return the state
   */
  @ReadOperation
  public Map<String, Object> sluice() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("store", sluice.store());
    out.put("failureMode", sluice.failureMode().name().toLowerCase(java.util.Locale.ROOT));
    out.put("storeHealth", sluice.storeHealth());
    Map<String, String> breakers = sluice.breakers();
    if (!breakers.isEmpty()) {
      out.put("breakers", breakers);
    }
    List<Object> rules = new ArrayList<>();
    for (Rule r : sluice.hasRules() ? sluice.httpLimiter().rules() : List.<Rule>of()) {
      Map<String, Object> rule = new LinkedHashMap<>();
      rule.put("name", r.name());
      rule.put("shadow", r.shadow());
      Map<String, Object> plans = new LinkedHashMap<>();
      sluice.plans(r.name()).forEach((name, policy) -> plans.put(name, limits(policy)));
      rule.put("plans", plans);
      rule.put("keys", sluice.httpLimiter().limiter(r.name()).size());
      rules.add(rule);
    }
    out.put("rules", rules);
    out.put("pendingChanges", sluice.pendingChanges());
    return out;
  }

  private static List<Object> limits(Policy p) {
    List<Object> out = new ArrayList<>();
    for (Limit l : p.limits()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("permits", l.refillPermits());
      m.put("per", l.refillPeriod().toString());
      m.put("burst", l.capacity());
      out.add(m);
    }
    return out;
  }
}
