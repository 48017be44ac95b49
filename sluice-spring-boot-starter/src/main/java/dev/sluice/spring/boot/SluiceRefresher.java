package dev.sluice.spring.boot;

import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Applies changed {@code sluice.*} properties to the running limits when the environment
 * changes (Spring Cloud's {@link EnvironmentChangeEvent}: a config refresh). Limits change in
 * place and keep every bucket's state; a bad value is logged and changes nothing; a change that
 * needs a restart is logged and shown by the actuator endpoint.
 */
final class SluiceRefresher implements ApplicationListener<EnvironmentChangeEvent> {

  private static final Log LOG = LogFactory.getLog(SluiceRefresher.class);

  private final Sluice sluice;
  private final ConfigurableEnvironment environment;

  SluiceRefresher(Sluice sluice, ConfigurableEnvironment environment) {
    this.sluice = sluice;
    this.environment = environment;
  }

  @Override
  public void onApplicationEvent(EnvironmentChangeEvent event) {
    if (event.getKeys().stream().noneMatch(k -> k.startsWith("sluice."))) {
      return;
    }
    SluiceProperties next;
    try {
      next = Binder.get(environment).bindOrCreate("sluice", SluiceProperties.class);
      List<String> pending = sluice.reconfigure(next);
      for (String p : pending) {
        LOG.warn("Sluice: " + p);
      }
    } catch (RuntimeException e) {
      LOG.error("Sluice: the changed sluice.* properties were not applied; the limits in force"
          + " are unchanged: " + e.getMessage());
    }
  }
}
