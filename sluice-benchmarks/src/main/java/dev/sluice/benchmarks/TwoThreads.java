package dev.sluice.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.util.MultisetStatistics;

/**
 * Runs {@link TwoThreadsBenchmark} with the JMH Runner API, {@code forks} forks per limiter
 * (default 5) in {@code AverageTime} mode for the fork means, and as many in {@code SampleTime}
 * mode for the tail. The forks go in rounds, one fork of each limiter per round, the order
 * rotated every round, so a load that rises or falls during the run (a shared machine) lands on
 * every limiter alike rather than on the one JMH would run last. Prints, per limiter, the median
 * of the fork means, their range, the means in fork order, and the p99 and p99.9 of every sample
 * of every fork; and the load average before and after.
 * <pre>
 * java -cp sluice-benchmarks/target/benchmarks.jar dev.sluice.benchmarks.TwoThreads [forks]
 * </pre>
 */
public final class TwoThreads {

  /** The benchmark methods, as named in {@link TwoThreadsBenchmark}. */
  private static final List<String> LIMITERS = List.of("floor", "sluice", "resilience4j");

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
    Map<String, MultisetStatistics> samples = new LinkedHashMap<>();
    for (String limiter : LIMITERS) {
      means.put(limiter, new ArrayList<>());
      samples.put(limiter, new MultisetStatistics());
    }
    for (int round = 0; round < forks; round++) {
      for (int k = 0; k < LIMITERS.size(); k++) {
        String limiter = LIMITERS.get((round + k) % LIMITERS.size());
        for (RunResult r : run(limiter, Mode.AverageTime)) {
          for (BenchmarkResult fork : r.getBenchmarkResults()) {
            means.get(limiter).add(fork.getPrimaryResult().getScore());
          }
        }
        for (RunResult r : run(limiter, Mode.SampleTime)) {
          Iterator<Map.Entry<Double, Long>> it = r.getPrimaryResult().getStatistics().getRawData();
          while (it.hasNext()) {
            Map.Entry<Double, Long> e = it.next();
            samples.get(limiter).addValue(e.getKey(), e.getValue());
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "TwoThreads: one key, 2 threads, admitting; %d forks;"
        + " load average %s before, %s after; ns per call%n", forks, load, load());
    for (String limiter : LIMITERS) {
      List<Double> m = means.get(limiter);
      MultisetStatistics t = samples.get(limiter);
      List<Double> sorted = m.stream().sorted().collect(Collectors.toList());
      String each = m.stream().map(v -> String.format(Locale.ROOT, "%.1f", v))
          .collect(Collectors.joining(" "));
      System.out.printf(Locale.ROOT, "%-13s median %6.1f  range %.1f-%.1f  p99 %,.0f  p99.9 %,.0f"
          + "  forks %s%n", limiter, median(sorted), sorted.get(0), sorted.get(sorted.size() - 1),
          t.getPercentile(99.0), t.getPercentile(99.9), each);
    }
  }

  /** One fork of one limiter's benchmark method. */
  private static Collection<RunResult> run(String limiter, Mode mode) throws RunnerException {
    Options options = new OptionsBuilder()
        .include(Pattern.quote(TwoThreadsBenchmark.class.getName() + "." + limiter) + "$")
        .mode(mode)
        .forks(1)
        .verbosity(VerboseMode.SILENT)
        .build();
    return new Runner(options).run();
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
