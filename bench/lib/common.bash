# shellcheck shell=bash
# Helpers shared by bench/activate and bench/consume (bench/spawn predates this file and keeps
# its own copies). Source it after setting REPO; it uses the globals TMP, PIDS and PROBLEMS.
#
# Conventions, as in bench/spawn: loopback only, ports picked free at start, one temp dir
# removed on exit (KEEP_TMP=1 keeps it), every process we start is recorded in PIDS and stopped
# in reverse order on exit, readiness is polled (never a fixed sleep), failed checks are
# collected in PROBLEMS and turn the exit status into 1.

TMP=""
PIDS=()      # processes this script started, in start order; stopped in reverse on exit
PROBLEMS=()  # failed checks: reported at the end, and the exit status becomes 1
PG_PID=""    # `postgres` (or the `runuser` running it); stopped with a fast shutdown
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "FATAL: $*"
  exit 1
}
problem() {
  log "PROBLEM: $*"
  PROBLEMS+=("$*")
}

# ensure_tools TOOL=PACKAGE...: installs the packages of the tools that are missing.
ensure_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Sets BIOMEBUS: $BIOMEBUS_BIN as given, or a release build in its own scratch path so it
# neither waits for nor invalidates the developers' debug build in .build/.
build_biomebus() {
  if [[ -n ${BIOMEBUS_BIN:-} ]]; then
    [[ -x $BIOMEBUS_BIN ]] || die "BIOMEBUS_BIN=$BIOMEBUS_BIN is not an executable"
    BIOMEBUS=$BIOMEBUS_BIN
    return
  fi
  "$REPO/scripts/bootstrap" # the C libraries the build links against
  local build=(swift build -c release --scratch-path "$REPO/.build-bench" --product biomebus)
  log "building: ${build[*]}"
  (cd "$REPO" && "${build[@]}" >"$TMP/build.log" 2>&1) || {
    tail -40 "$TMP/build.log" >&2
    die "release build failed (someone mid-edit? build a git archive of HEAD and set BIOMEBUS_BIN, see docs/benchmarks.md)"
  }
  BIOMEBUS="$(cd "$REPO" && "${build[@]:0:6}" --show-bin-path)/biomebus"
}

# What the binary was built from, for the results file.
biomebus_revision() {
  if [[ -n ${BIOMEBUS_BIN:-} ]]; then
    echo "prebuilt $BIOMEBUS, revision ${BIOMEBUS_REV:-not given (set BIOMEBUS_REV)}"
  else
    local built_from
    built_from="release build of $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    git -C "$REPO" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || built_from+=" + uncommitted changes"
    echo "$built_from"
  fi
}

# Prints N distinct free loopback ports. All sockets stay bound until all are picked, so the
# kernel cannot hand out the same port twice.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}

# wait_until WHAT PID LOG COMMAND...: polls COMMAND until it succeeds; dies (showing LOG) if the
# process PID exits first or 30 s pass.
wait_until() {
  local what=$1 pid=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + 30))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -20 "$logfile" >&2 || true
      die "$what exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      tail -20 "$logfile" >&2 || true
      die "$what not ready after 30 s"
    fi
    sleep 0.05
  done
}

# http_status URL [curl args...]: prints the status code of one request.
http_status() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url"
}
http_is() { [[ $(http_status "${@:2}") == "$1" ]]; }

# stop_process PID: SIGTERM, up to 10 s to exit, then SIGKILL. Sets STOP_STATUS to the exit
# status. Call it in the shell that started PID (not in $(…)): only that shell can wait for it.
stop_process() {
  local pid=$1 deadline=$((SECONDS + 10))
  STOP_STATUS=0
  if kill -TERM "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # shellcheck disable=SC2034 # read by the callers
  wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    if [[ ${PIDS[i]} == "$PG_PID" ]]; then
      stop_postgres
    else
      stop_process "${PIDS[i]}"
    fi
  done
  if [[ -n $TMP ]]; then
    if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit "$status"
}

# Sets TMP, STAMP and the traps; call first.
begin() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-$1.XXXXXX")
  # shellcheck disable=SC2034 # used by the scripts that source this file
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$RESULTS_DIR"
  LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
}

# ---------------------------------------------------------------------------------------------
# Postgres: our own server, initdb'd in the temp dir, on a free loopback port.

PG_DB=biomebus_bench

pg_bin() {
  local newest
  newest=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -1)
  [[ -n $newest ]] || die "no PostgreSQL under /usr/lib/postgresql"
  echo "/usr/lib/postgresql/$newest/bin"
}

# as_postgres COMMAND...: Postgres refuses to run as root; under root its tools run as `postgres`.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres PORT [-c name=value...]: initdb, then `postgres` in the foreground as our child
# (not `pg_ctl start`, so that it is in PIDS like everything else). fsync and
# synchronous_commit keep their defaults (on): commits wait for the disk, as in production.
start_postgres() {
  PG_PORT=$1
  shift
  local bin
  bin=$(pg_bin)
  PG_DIR="$TMP/pg"
  mkdir -p "$PG_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chmod 711 "$TMP" # postgres must reach its directory inside our temp dir
    chown postgres: "$PG_DIR"
  fi
  as_postgres "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1 ||
    {
      cat "$TMP/initdb.log" >&2
      die "initdb failed"
    }
  as_postgres "$bin/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" -c listen_addresses=127.0.0.1 \
    -c shared_buffers=128MB -c max_connections=200 "$@" >"$TMP/postgres.log" 2>&1 </dev/null &
  PG_PID=$!
  PIDS+=("$PG_PID")
  wait_until postgres "$PG_PID" "$TMP/postgres.log" psql_at postgres "SELECT 1"
  psql_at postgres "CREATE DATABASE $PG_DB" >/dev/null
  # shellcheck disable=SC2034 # used by the scripts that source this file
  PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
}

# The postmaster's own pid (PG_PID may be `runuser`).
postmaster_pid() { head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null; }

# Fast shutdown (SIGINT to the postmaster: sessions are cut, no waiting for clients).
stop_postgres() {
  local pid deadline=$((SECONDS + 30))
  pid=$(postmaster_pid)
  [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null
  while kill -0 "$PG_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -KILL "$PG_PID" 2>/dev/null || true
  [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true
  wait "$PG_PID" 2>/dev/null || true
}

# psql_at DB SQL: runs SQL, prints unaligned tuples-only output.
psql_at() {
  psql -X -At -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -c "$2"
}
pg() { psql_at "$PG_DB" "$1"; }

# CPU ticks of the whole Postgres server so far: the postmaster, its live children, and the
# children it has already reaped (cutime/cstime), so backends of finished clients still count.
pg_cpu_ticks() {
  local master total=0 fields f pid
  master=$(postmaster_pid)
  fields=$(sed 's/^.*) //' "/proc/$master/stat")
  read -r -a f <<<"$fields"
  total=$((f[11] + f[12] + f[13] + f[14]))
  for pid in $(pgrep -P "$master" || true); do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    read -r -a f <<<"$fields"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# ---------------------------------------------------------------------------------------------
# Measuring

# CPU ticks (user + system) used so far by PID and its direct children.
cpu_ticks() {
  local pid total=0 fields f
  for pid in "$1" $(pgrep -P "$1" || true); do
    # Fields after the ")" that closes the command name; utime and stime are 14 and 15.
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    read -r -a f <<<"$fields"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# µs of CPU per request from a tick delta.
cpu_per_request() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }'; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# parse_wrk FILE: prints "requests/s p50_ms p99_ms requests non2xx socket_errors".
parse_wrk() {
  awk '
    function ms(value) {
      if (value ~ /us$/) return value / 1000
      if (value ~ /ms$/) return value + 0
      if (value ~ /s$/) return value * 1000
      if (value ~ /m$/) return value * 60000
      return value
    }
    /^ +50% / { p50 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { requests = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%s %s %s %s %d %d\n", rps, p50, p99, requests, non2xx, errors }
  ' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# verdict VALUE TARGET (at_least|at_most)
verdict() {
  awk -v r="$1" -v t="$2" -v kind="$3" 'BEGIN {
    ok = kind == "at_least" ? r >= t : r <= t
    printf "%s (%+.0f %% vs target)", ok ? "**met**" : "**not met**", (t ? (r / t - 1) * 100 : 0)
  }'
}

# Lines that a service logged above info.
# The open-service warning (no --auth) is expected in a benchmark.
complaints() { grep -E ' (warning|error|critical) ' "$1" | grep -v 'running open, without --auth' || true; }

machine_line() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
  echo "- load average at start: $LOAD_AT_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other users of the machine share these cores)"
  echo "- biomebus: $(biomebus_revision); $(swift --version 2>/dev/null | head -1 || echo 'swift ?')"
}

# perf_profile PID SECONDS OUT: self time by shared object and symbol, and inclusive time.
perf_profile() {
  local pid=$1 seconds=$2 out=$3
  if ! perf stat -e cpu-clock true >/dev/null 2>&1; then
    problem "profile: perf does not work here; skipped (see docs/benchmarks.md for callgrind)"
    return 1
  fi
  # cpu-clock: a KVM guest has no hardware counters.
  perf record -e cpu-clock -F 999 -g -p "$pid" -o "$TMP/perf.data" -- sleep "$seconds" 2>"$TMP/perf-record.log"
  local report=(perf report -i "$TMP/perf.data" --stdio -g none)
  {
    echo "# perf: self time by shared object ($(grep -o '[0-9]* samples' "$TMP/perf-record.log"))"
    "${report[@]}" --no-children --sort dso 2>/dev/null | top_lines 15
    echo
    echo "# perf: self time by symbol (top 40)"
    "${report[@]}" --no-children --sort dso,symbol 2>/dev/null | top_lines 40
    echo
    echo "# perf: inclusive time by symbol (top 60; frame-pointer stacks, so callers in"
    echo "# libraries built without frame pointers are under-counted)"
    "${report[@]}" --children --sort symbol 2>/dev/null | top_lines 60
  } | demangle >"$out"
}
top_lines() { awk -v n="$1" '!/^#/ && NF && shown++ < n { sub(/([[:space:]]+-)*[[:space:]]*$/, ""); print }'; }
demangle() { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; }
