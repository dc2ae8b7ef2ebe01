#!/usr/bin/env bash
# Local PostgreSQL and MariaDB for the database-source tests: throw-away data folders under a
# temp dir, listening on loopback (free ports) and a Unix socket there, stopped by `stop`.
#
#   eval "$(scripts/testdb.sh start)"   # installs (Debian, as root) when missing, starts, prints the env
#   scripts/testdb.sh env               # prints the exports again
#   scripts/testdb.sh stop              # stops both and removes the folder
#   scripts/testdb.sh plan              # says which servers it found and what it would install
#
# The tests read USERIMPORT_TEST_POSTGRES_URL and USERIMPORT_TEST_MYSQL_URL.
set -euo pipefail

DIR=${USERIMPORT_TESTDB_DIR:-${TMPDIR:-/tmp}/userimport-testdb-$(id -u)}
PW=userimport-test-pw # a throw-away password of a server that only listens on loopback
ENVFILE=$DIR/env
ROOT=${USERIMPORT_TESTDB_ROOT:-} # tests of the install logic point this at a fake file system

log() { echo "testdb: $*" >&2; }

# as USER CMD...: postgres and mariadbd refuse to run as root; run them as their own user.
as() {
	local user=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	log "no free port found"
	exit 1
}

pg_bindir() {
	local d
	# Debian's packaged server first; a hand-built one on PATH only as a fallback.
	for d in $(ls -d "$ROOT"/usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
	done
	[ -n "$ROOT" ] && return 1
	if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
		return
	fi
	command -v initdb >/dev/null && command -v pg_ctl >/dev/null && { dirname "$(command -v initdb)"; return; }
	return 1
}

# mariadb_bin NAME: the path of a MariaDB program (mariadbd in sbin, the rest in bin).
mariadb_bin() {
	local d
	for d in "$ROOT/usr/sbin" "$ROOT/usr/bin"; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return; }
	done
	[ -z "$ROOT" ] && command -v "$1"
}

have_mariadb() { mariadb_bin mariadbd >/dev/null && mariadb_bin mariadb-install-db >/dev/null && mariadb_bin mariadb >/dev/null; }

# need: the Debian packages still missing.
need() {
	local n=()
	pg_bindir >/dev/null || n+=(postgresql)
	have_mariadb || n+=(mariadb-server)
	echo "${n[*]}"
}

plan() {
	echo "postgres: $(pg_bindir || echo missing)"
	echo "mariadb: $(mariadb_bin mariadbd || echo missing)"
	local n
	n=$(need)
	if [ -n "$n" ]; then echo "install: apt-get install -y $n"; else echo "install: nothing"; fi
}

install() {
	local pkgs
	read -r -a pkgs <<<"$(need)"
	[ ${#pkgs[@]} = 0 ] && return
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		log "missing ${pkgs[*]}: install them (Debian/Ubuntu: sudo apt-get install -y postgresql mariadb-server) and run again"
		exit 1
	fi
	log "installing ${pkgs[*]} from the distribution's packages"
	export DEBIAN_FRONTEND=noninteractive
	# Packages must not start their own system-wide servers: only ours, in $DIR.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' RETURN
	fi
	apt-get update -qq >&2
	apt-get install -y -qq "${pkgs[@]}" >&2
}

owner() { if [ "$(id -u)" = 0 ]; then echo "$1"; else id -un; fi; }

start_pg() {
	local bin port
	bin=$(pg_bindir)
	mkdir -p "$DIR/pg"
	[ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg"
	chmod 700 "$DIR/pg"
	if [ ! -s "$DIR/pg/data/PG_VERSION" ]; then
		printf '%s\n' "$PW" >"$DIR/pg/pwfile"
		[ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg/pwfile"
		as postgres "$bin/initdb" -D "$DIR/pg/data" -U userimport --pwfile="$DIR/pg/pwfile" \
			--auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$DIR/pg/initdb.log" 2>&1 ||
			{ cat "$DIR/pg/initdb.log" >&2; exit 1; }
		rm -f "$DIR/pg/pwfile"
	fi
	port=$(free_port)
	as postgres "$bin/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $DIR/pg -c fsync=off -c full_page_writes=off -c max_connections=200" start >&2 ||
		{ cat "$DIR/pg/server.log" >&2; exit 1; }
	echo "export USERIMPORT_TEST_POSTGRES_URL='postgres://userimport:$PW@127.0.0.1:$port/postgres?sslmode=disable'" >>"$ENVFILE"
	log "postgres $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $DIR/pg/data)"
}

start_mariadb() {
	local mysqld port sock=$DIR/my/mysqld.sock user
	mysqld=$(mariadb_bin mariadbd)
	user=$(owner mysql)
	mkdir -p "$DIR/my"
	[ "$(id -u)" = 0 ] && chown mysql: "$DIR/my"
	if [ ! -d "$DIR/my/data/mysql" ]; then
		"$(mariadb_bin mariadb-install-db)" --no-defaults --datadir="$DIR/my/data" --user="$user" \
			--auth-root-authentication-method=socket --auth-root-socket-user="$(id -un)" \
			--skip-test-db >"$DIR/my/install.log" 2>&1 || { cat "$DIR/my/install.log" >&2; exit 1; }
	fi
	port=$(free_port)
	"$mysqld" --no-defaults --user="$user" --datadir="$DIR/my/data" --socket="$sock" \
		--port="$port" --bind-address=127.0.0.1 --pid-file="$DIR/my/mysqld.pid" \
		--log-error="$DIR/my/server.log" --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
		--max-connections=200 >/dev/null 2>&1 &
	for _ in $(seq 1 120); do
		"$(mariadb_bin mariadb-admin)" --no-defaults --socket="$sock" -u "$(id -un)" ping >/dev/null 2>&1 && break
		sleep 0.5
	done
	"$(mariadb_bin mariadb)" --no-defaults --socket="$sock" -u "$(id -un)" <<SQL || { cat "$DIR/my/server.log" >&2; exit 1; }
CREATE USER IF NOT EXISTS 'userimport'@'127.0.0.1' IDENTIFIED BY '$PW';
CREATE USER IF NOT EXISTS 'userimport'@'localhost' IDENTIFIED BY '$PW';
GRANT ALL PRIVILEGES ON *.* TO 'userimport'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'userimport'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS userimport_test;
SQL
	echo "export USERIMPORT_TEST_MYSQL_URL='mysql://userimport:$PW@127.0.0.1:$port/userimport_test'" >>"$ENVFILE"
	echo "export USERIMPORT_TEST_MYSQL_SOCKET='$sock'" >>"$ENVFILE"
	log "mariadb $("$mysqld" --version | awk '{print $3}') on 127.0.0.1:$port and $sock (data $DIR/my/data)"
}

stop() {
	local bin
	if [ -s "$DIR/pg/data/postmaster.pid" ] && bin=$(pg_bindir); then
		as postgres "$bin/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >&2 || true
	fi
	if [ -s "$DIR/my/mysqld.pid" ]; then
		local pid
		pid=$(cat "$DIR/my/mysqld.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	fi
	rm -rf "$DIR"
}

# running: both servers of $DIR are alive.
running() {
	[ -s "$DIR/pg/data/postmaster.pid" ] && kill -0 "$(head -n 1 "$DIR/pg/data/postmaster.pid")" 2>/dev/null &&
		[ -s "$DIR/my/mysqld.pid" ] && kill -0 "$(cat "$DIR/my/mysqld.pid")" 2>/dev/null
}

case ${1:-} in
start)
	if [ -s "$ENVFILE" ]; then
		if running; then
			log "already running (scripts/testdb.sh stop first to restart)"
			cat "$ENVFILE"
			exit 0
		fi
		log "a server of $DIR is gone (a reboot?): starting afresh"
		stop
	fi
	install
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	: >"$ENVFILE.tmp"
	ENVFILE=$ENVFILE.tmp
	start_pg
	start_mariadb
	mv "$ENVFILE" "$DIR/env"
	cat "$DIR/env"
	;;
stop) stop ;;
plan) plan ;;
env)
	[ -s "$ENVFILE" ] || { log "not running: eval \"\$(scripts/testdb.sh start)\""; exit 1; }
	cat "$ENVFILE"
	;;
*)
	echo "usage: $0 start|stop|env|plan" >&2
	exit 2
	;;
esac
