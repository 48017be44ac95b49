package dev.sluice.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link TwoThreadsBenchmark} twice with the JMH Runner API, {@code forks} forks each
 * (default 5): in {@code AverageTime} mode for the fork means, and in {@code SampleTime} mode for
 * the tail. Prints, per limiter, the median of the fork means, their range, the means in fork
 * order, and the p99 and p99.9 of every sample of every fork; and the load average before and
 * after (a shared machine moves these figures).
 * <pre>
 * java -cp sluice-benchmarks/target/benchmarks.jar dev.sluice.benchmarks.TwoThreads [forks]
 * </pre>
 */
public final class TwoThreads {

  private TwoThreads() {}

  /**
   * Runs and prints.
   *
   * @param args the number of forks per mode (at least 1, default 5)
   */
  public static void main(String[] args) throws RunnerException {
    int forks = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    if (forks < 1) {
      throw new IllegalArgumentException("forks (" + forks + ") must be at least 1");
    }
    String load = load();
    Map<String, List<Double>> means = new LinkedHashMap<>();
    for (RunResult r : run(Mode.AverageTime, forks)) {
      List<Double> m = new ArrayList<>();
      for (BenchmarkResult fork : r.getBenchmarkResults()) {
        m.add(fork.getPrimaryResult().getScore());
      }
      means.put(name(r), m);
    }
    Map<String, double[]> tails = new LinkedHashMap<>();
    for (RunResult r : run(Mode.SampleTime, forks)) {
      tails.put(name(r), new double[] {
        r.getPrimaryResult().getStatistics().getPercentile(99.0),
        r.getPrimaryResult().getStatistics().getPercentile(99.9)});
    }
    System.out.printf(Locale.ROOT, "TwoThreads: one key, 2 threads, admitting; %d forks;"
        + " load average %s before, %s after; ns per call%n", forks, load, load());
    for (String limiter : List.of("floor", "sluice", "resilience4j")) {
      List<Double> m = means.get(limiter);
      double[] t = tails.get(limiter);
      if (m == null || t == null) {
        continue;
      }
      List<Double> sorted = m.stream().sorted().collect(Collectors.toList());
      System.out.printf(Locale.ROOT, "%-13s median %6.1f  range %.1f-%.1f  p99 %,.0f  p99.9 %,.0f"
          + "  forks %s%n", limiter, median(sorted), sorted.get(0), sorted.get(sorted.size() - 1),
          t[0], t[1], m.stream().map(v -> String.format(Locale.ROOT, "%.1f", v))
              .collect(Collectors.joining(" ")));
    }
  }

  private static Collection<RunResult> run(Mode mode, int forks) throws RunnerException {
    Options options = new OptionsBuilder()
        .include(TwoThreadsBenchmark.class.getName() + "\\.")
        .mode(mode)
        .forks(forks)
        .verbosity(VerboseMode.SILENT)
        .build();
    return new Runner(options).run();
  }

  private static String name(RunResult r) {
    String b = r.getParams().getBenchmark();
    return b.substring(b.lastIndexOf('.') + 1);
  }

  private static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The first three fields of {@code /proc/loadavg}, or "?". */
  private static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
