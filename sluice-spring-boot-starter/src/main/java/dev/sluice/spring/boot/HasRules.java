package dev.sluice.spring.boot;

import java.util.Map;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when {@code sluice.rules} holds a rule: the HTTP filters exist only then (a Gateway
 * application may limit its routes alone).
 */
final class HasRules implements Condition {

  @Override
  public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
    return Binder.get(context.getEnvironment())
        .bind("sluice.rules[0]", Bindable.mapOf(String.class, Object.class)).isBound();
  }
}
