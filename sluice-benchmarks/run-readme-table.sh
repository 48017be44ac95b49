#!/usr/bin/env bash
# Builds sluice-benchmarks/target/benchmarks.jar and runs exactly what the README's benchmark
# tables need, then prints them (markdown) with the goals as ratios from the same run.
#
#   sluice-benchmarks/run-readme-table.sh            # about 12 minutes on 2 cores
#   JMH_OPTS="-f 3" sluice-benchmarks/run-readme-table.sh   # extra JMH options, e.g. more forks
#   SKIP_BUILD=1 sluice-benchmarks/run-readme-table.sh      # reuse the jar already built
#
# Needs JDK 17+ and Maven with the dependencies already in ~/.m2 (it builds offline, -o; it
# never touches the network). Run it on a quiet machine: keyed figures move between forks, so
# compare rows of one run only. Raw JMH output goes to $OUT (default
# sluice-benchmarks/target/readme-table).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-sluice-benchmarks/target/readme-table}
JMH_OPTS=${JMH_OPTS:-}
JAR=sluice-benchmarks/target/benchmarks.jar
HEAP=(-Xms2g -Xmx2g -XX:+AlwaysPreTouch)

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $JAR"
  mvn -o -q -pl sluice-benchmarks -am package -DskipTests
fi
mkdir -p "$OUT"

jmh() { # name, then JMH arguments; waits (up to 30 min) while another JMH run holds its lock
  local name=$1
  shift
  echo "== $name: java -jar $JAR $* -prof gc $JMH_OPTS"
  for _ in $(seq 1 180); do
    # shellcheck disable=SC2086
    if java -jar "$JAR" "$@" -prof gc -rf csv -rff "$OUT/$name.csv" $JMH_OPTS > "$OUT/$name.txt" 2>&1; then
      return 0
    fi
    grep -q "Unable to acquire the JMH lock" "$OUT/$name.txt" || { tail -20 "$OUT/$name.txt"; return 1; }
    sleep 10
  done
  echo "gave up waiting for the JMH lock" >&2
  return 1
}

jmh single-t1 SingleBucketBenchmark -t 1
jmh single-t2 SingleBucketBenchmark -t 2
jmh keyed-t1 KeyedBenchmark -t 1
jmh keyed-t2 KeyedBenchmark -t 2

echo "== memory per idle key"
java "${HEAP[@]}" -Djdk.attach.allowAttachSelf=true -cp "$JAR" \
  dev.sluice.benchmarks.MemoryPerKey > "$OUT/memory.txt" 2>&1

echo "== key flood"
: > "$OUT/flood.txt"
for impl in sluice sluice-caffeine-store bucket4j-caffeine; do
  java "${HEAP[@]}" -cp "$JAR" dev.sluice.benchmarks.KeyFlood "$impl" >> "$OUT/flood.txt" 2>&1 || true
done

echo
echo "## Results"
echo
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1);" \
  "$(java -version 2>&1 | head -1); $(date -u +%Y-%m-%d)"
echo "JMH 1.37, 1 fork per row unless JMH_OPTS says otherwise (${JMH_OPTS:-none}), heap -Xms2g -Xmx2g -XX:+AlwaysPreTouch."
echo
java -cp "$JAR" dev.sluice.benchmarks.ReadmeTable "$OUT"
echo
echo "Retained memory per idle key (100,000 keys, each holding a non-full bucket; key Strings excluded):"
echo
grep '^|' "$OUT/memory.txt"
echo
echo "Key flood: 1,000 throttled keys, then 10,000,000 distinct keys taking one permit each:"
echo
awk '/^\| store/ { if (!h) { print; print "|---|---:|---:|---:|---:|---:|---:|"; h = 1 }; next }
     /^\|---/ { next }
     /^\|/ { print }' "$OUT/flood.txt"
echo
echo "Raw output: $OUT"
