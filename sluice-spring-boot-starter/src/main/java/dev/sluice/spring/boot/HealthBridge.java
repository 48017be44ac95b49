package dev.sluice.spring.boot;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.util.ClassUtils;

/**
 * The store's health contributor, over whichever Health API the application has: Boot 4's
 * ({@code org.springframework.boot.health.contributor}) or Boot 3's
 * ({@code org.springframework.boot.actuate.health}). The API moved between the two; its shape
 * (an indicator with {@code health()}, {@code Health.up()/down()...withDetails(map).build()})
 * did not, so one proxy serves both, and this class is the only place that knows the packages.
 */
final class HealthBridge {

  static final String BOOT4 = "org.springframework.boot.health.contributor";
  static final String BOOT3 = "org.springframework.boot.actuate.health";

  private HealthBridge() {}

  /** The package of the Health API on the class path, or null. */
  static String api(ClassLoader cl) {
    if (ClassUtils.isPresent(BOOT4 + ".HealthIndicator", cl)) {
      return BOOT4;
    }
    if (ClassUtils.isPresent(BOOT3 + ".HealthIndicator", cl)) {
      return BOOT3;
    }
    return null;
  }

  /** Registers {@code sluiceHealthIndicator} (shown as {@code sluice}) if there is a Health API. */
  static void register(BeanDefinitionRegistry registry, BeanFactory beans, ClassLoader cl) {
    String api = api(cl);
    if (api == null || registry.containsBeanDefinition("sluiceHealthIndicator")) {
      return;
    }
    Class<?> indicator = ClassUtils.resolveClassName(api + ".HealthIndicator", cl);
    Class<?> health = ClassUtils.resolveClassName(api + ".Health", cl);
    RootBeanDefinition def = new RootBeanDefinition();
    def.setTargetType(indicator);
    def.setBeanClass(indicator);
    def.setInstanceSupplier(() -> proxy(indicator, health, () -> beans.getBean(Sluice.class)));
    registry.registerBeanDefinition("sluiceHealthIndicator", def);
  }

  private static Object proxy(Class<?> indicator, Class<?> health,
      java.util.function.Supplier<Sluice> sluice) {
    InvocationHandler h = (proxy, method, args) -> {
      if (method.getName().equals("health") && method.getParameterCount() == 0) {
        return health(health, sluice.get().storeHealth());
      }
      if (method.isDefault()) {
        return InvocationHandler.invokeDefault(proxy, method, args);
      }
      return switch (method.getName()) {
        case "toString" -> "SluiceHealthIndicator";
        case "hashCode" -> System.identityHashCode(proxy);
        case "equals" -> proxy == args[0];
        default -> throw new UnsupportedOperationException(method.toString());
      };
    };
    return Proxy.newProxyInstance(indicator.getClassLoader(), new Class<?>[] {indicator}, h);
  }

  private static Object health(Class<?> health, Map<String, Object> details) throws Exception {
    boolean up = Boolean.TRUE.equals(details.get("reachable"));
    Object builder = health.getMethod(up ? "up" : "down").invoke(null);
    Method withDetails = builder.getClass().getMethod("withDetails", Map.class);
    builder = withDetails.invoke(builder, details);
    return builder.getClass().getMethod("build").invoke(builder);
  }
}
