package dev.sluice.spring.boot;

import dev.sluice.Decision;
import java.lang.reflect.Method;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/** Applies {@link RateLimited}: decides before the call, throws instead of calling when refused. */
final class RateLimitedInterceptor implements MethodInterceptor {

  private static final ParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

  private final ObjectProvider<Sluice> sluice;
  private final java.util.concurrent.ConcurrentHashMap<Method, Expressions.Compiled> keys =
      new java.util.concurrent.ConcurrentHashMap<>();

  RateLimitedInterceptor(ObjectProvider<Sluice> sluice) {
    this.sluice = sluice;
  }

  static RateLimited find(Method method, Class<?> target) {
    Method specific = target == null ? method : AopUtils.getMostSpecificMethod(method, target);
    RateLimited a = AnnotatedElementUtils.findMergedAnnotation(specific, RateLimited.class);
    if (a == null && target != null) {
      a = AnnotatedElementUtils.findMergedAnnotation(target, RateLimited.class);
    }
    if (a == null) {
      a = AnnotatedElementUtils.findMergedAnnotation(method.getDeclaringClass(), RateLimited.class);
    }
    return a;
  }

  @Override
  public Object invoke(MethodInvocation invocation) throws Throwable {
    Method method = invocation.getMethod();
    Class<?> target = invocation.getThis() == null ? null
        : AopUtils.getTargetClass(invocation.getThis());
    RateLimited a = find(method, target);
    if (a == null) {
      return invocation.proceed();
    }
    String key = key(a, method, invocation.getArguments());
    Decision d = sluice.getObject().decideCall(a.rule(), key, a.cost());
    if (!d.allowed()) {
      throw new RateLimitedException(a.rule(), d.retryAfter().orElse(null));
    }
    return invocation.proceed();
  }

  private String key(RateLimited a, Method method, Object[] args) {
    String text = a.key();
    if (!text.startsWith("spel:")) {
      return text.isEmpty() ? "all" : text;
    }
    Expressions.Compiled e = keys.computeIfAbsent(method,
        m -> Expressions.compile(text.substring(5), "@RateLimited(key) of " + m));
    EvaluationContext ctx = SimpleEvaluationContext.forReadOnlyDataBinding()
        .withInstanceMethods().build();
    ctx.setVariable("args", args);
    String[] names = NAMES.getParameterNames(method);
    for (int i = 0; i < args.length; i++) {
      ctx.setVariable("p" + i, args[i]);
      ctx.setVariable("a" + i, args[i]);
      if (names != null) {
        ctx.setVariable(names[i], args[i]);
      }
    }
    Object v = e.expression().getValue(ctx);
    if (v == null || v.toString().isBlank()) {
      throw new IllegalArgumentException("@RateLimited(key = \"" + text + "\") on " + method
          + " gave no key (null or blank)");
    }
    return v.toString();
  }
}
