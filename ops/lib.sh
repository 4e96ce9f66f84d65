# shellcheck shell=bash
# Shared helpers for ops/dev and ops/test. Source it; do not run it.
# Services run as plain processes with PID files (no systemd), bound to 127.0.0.1 only.

DOCKET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOCKET_ROOT

log() { printf '[%s] %s\n' "${DOCKET_LOG_TAG:-docket}" "$*" >&2; }
warn() { printf '[%s] warning: %s\n' "${DOCKET_LOG_TAG:-docket}" "$*" >&2; }
die() {
    printf '[%s] error: %s\n' "${DOCKET_LOG_TAG:-docket}" "$*" >&2
    exit 1
}

# --- packages -----------------------------------------------------------------------------------

_docket_apt_updated=0

# apt-get update at most once per run: it is slow, and only needed before the first install.
apt_update_once() {
    if [[ $_docket_apt_updated -eq 0 ]]; then
        log "apt-get update"
        apt-get update -qq >&2
        _docket_apt_updated=1
    fi
}

# Installs the C libraries, servers and tools Docket builds and tests with, skipping what is present.
ensure_packages() {
    local missing=() pkg
    for pkg in libhiredis-dev libpq-dev libcurl4-openssl-dev pkg-config; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
    # The system tests run a real nginx in front of a gateway and check ops/prometheus with promtool.
    [[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
    # The console's browser test drives a headless chromium through chromedriver (Selenium, from PyPI below).
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    local need_postgres=0
    if ! pg_bin_dir >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
        need_postgres=1
    fi
    if [[ ${#missing[@]} -eq 0 && $need_postgres -eq 0 ]]; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        [[ $need_postgres -eq 1 ]] && missing+=(postgresql-15)
        die "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
    fi
    apt_update_once
    if [[ $need_postgres -eq 1 ]]; then
        # Debian 12 has postgresql-15; elsewhere take the distribution's default version.
        if apt-cache show postgresql-15 >/dev/null 2>&1; then
            missing+=(postgresql-15)
        else
            missing+=(postgresql)
        fi
    fi
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Selenium for the console's browser test (Tests/DocketctlTests/browser/console_browser.py); PyPI is the only source.
ensure_selenium() {
    python3 -c 'import selenium' >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null 2>&1 || die "python3 is missing: the console's browser test needs it"
    log "pip install selenium"
    python3 -m pip install -q --disable-pip-version-check 'selenium>=4.10,<5' >&2
}

# Puts swift on PATH if the toolchain is where this machine keeps it but PATH lacks it.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
        PATH="/opt/swift/usr/bin:$PATH"
        export PATH
    fi
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH: install the Swift 6 toolchain"
}

# --- generic ------------------------------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    local port tries
    for tries in $(seq 1 100); do
        # Below the kernel's ephemeral range (32768 and up on Linux): a port an outgoing connection holds is not
        # seen by the probe, yet makes the server's bind fail (as Tests/TestSupport/FreePort.swift avoids too).
        port=$((20000 + RANDOM % 12768))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found after $tries tries"
}

# free_cluster_ports N: N distinct free ports for cluster nodes, each with its cluster bus port (port + 10000) free too,
# all below the ephemeral range.
free_cluster_ports() {
    local count=$1 port picked=() tries
    for tries in $(seq 1 1000); do
        port=$((20000 + RANDOM % 2768))
        [[ " ${picked[*]} " == *" $port "* ]] && continue
        port_in_use "$port" || port_in_use $((port + 10000)) || picked+=("$port")
        if [[ ${#picked[@]} -eq $count ]]; then
            echo "${picked[@]}"
            return 0
        fi
    done
    die "no $count free cluster ports found after $tries tries"
}

# True when the PID in file $1 is a live process.
pid_alive() {
    local pid
    [[ -f $1 ]] || return 1
    pid="$(head -n 1 "$1" 2>/dev/null)"
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# Runs a command as the postgres user when we are root (initdb refuses root), from a directory it may enter.
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Gives directory $1 to the postgres user when we are root.
chown_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres:postgres "$1"
    fi
}

# --- Redis --------------------------------------------------------------------------------------

# redis_start PORT DIR APPENDONLY(yes|no): daemonized, PID in DIR/redis.pid, log in DIR/redis.log.
redis_start() {
    local port=$1 dir=$2 appendonly=$3
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --appendonly "$appendonly" --save "" >/dev/null
    for _ in $(seq 1 300); do
        if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    die "redis-server on port $port did not answer PING within 30 s (log: $dir/redis.log)"
}

# redis_stop DIR: SIGTERM the server recorded in DIR/redis.pid and wait for it; SIGKILL after 15 s.
redis_stop() {
    local dir=$1 pid
    if ! pid_alive "$dir/redis.pid"; then
        rm -f "$dir/redis.pid"
        return 0
    fi
    pid="$(head -n 1 "$dir/redis.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "redis-server (pid $pid) ignored SIGTERM for 15 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/redis.pid"
}

# redis_cluster_start DIR PORT...: a Redis Cluster on 127.0.0.1, one node per PORT (a directory each under DIR), made
# with `redis-cli --cluster create --cluster-replicas ${CLUSTER_REPLICAS:-1}`: with six ports, three primaries with one
# replica each (with CLUSTER_REPLICAS=0 and three ports, three primaries alone). Returns
# once every node reports cluster_state:ok. Nodes keep their data in memory only (no AOF, no RDB).
redis_cluster_start() {
    local dir=$1 port nodes=() ok
    shift
    for port in "$@"; do
        mkdir -p "$dir/$port"
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$port" --daemonize yes \
            --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" \
            --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 2000 \
            --appendonly no --save "" >/dev/null
        nodes+=("127.0.0.1:$port")
    done
    for port in "$@"; do
        for _ in $(seq 1 300); do
            [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && break
            sleep 0.1
        done
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas "${CLUSTER_REPLICAS:-1}" --cluster-yes >"$dir/create.log" 2>&1 \
        || { cat "$dir/create.log" >&2; die "redis-cli --cluster create failed (log: $dir/create.log)"; }
    for _ in $(seq 1 300); do
        ok=1
        for port in "$@"; do
            redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
        done
        [[ $ok -eq 1 ]] && return 0
        sleep 0.1
    done
    die "the Redis Cluster on ports $* did not reach cluster_state:ok within 30 s (logs: $dir/*/redis.log)"
}

# redis_cluster_stop DIR: stops every node redis_cluster_start put under DIR.
redis_cluster_stop() {
    local dir=$1 node
    for node in "$dir"/*/; do
        [[ -f $node/redis.pid ]] && redis_stop "${node%/}"
    done
    return 0
}

# --- PostgreSQL ---------------------------------------------------------------------------------

# The newest /usr/lib/postgresql/<version>/bin (/usr/local/bin/pg_ctl may be a wrapper, so not PATH).
pg_bin_dir() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]] || return 1
    echo "$dir"
}

# pg_init DATA [extra initdb args...]: a trust-auth cluster owned by postgres, unless DATA already holds one.
pg_init() {
    local data=$1
    shift
    [[ -f $data/PG_VERSION ]] && return 0
    local bin
    bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    mkdir -p "$data"
    chmod 700 "$data"
    chown_postgres "$(dirname "$data")"
    log "initdb $data"
    as_postgres "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-instructions "$@" >/dev/null
}

# pg_start DATA PORT SOCKETDIR LOG [extra server options]: waits until the server accepts connections.
pg_start() {
    local data=$1 port=$2 socket_dir=$3 logfile=$4 extra=${5:-}
    local bin
    bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    if ! as_postgres "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $socket_dir $extra" start >/dev/null; then
        tail -n 20 "$logfile" >&2 2>/dev/null || true
        die "postgres on port $port did not start (log: $logfile)"
    fi
}

# pg_running DATA: true when the cluster in DATA has a live postmaster.
pg_running() {
    local bin
    bin="$(pg_bin_dir)" || return 1
    [[ -f $1/postmaster.pid ]] && as_postgres "$bin/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_stop DATA: fast shutdown (open transactions roll back), waiting for the server to exit.
pg_stop() {
    local data=$1 bin
    pg_running "$data" || return 0
    bin="$(pg_bin_dir)"
    as_postgres "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
}

# pg_port DATA: the port of the running postmaster (line 4 of postmaster.pid).
pg_port() {
    sed -n 4p "$1/postmaster.pid" 2>/dev/null
}
