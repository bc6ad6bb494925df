#!/usr/bin/env sh
# A copy of the fail-fast listener of tiangolo/uwsgi-nginx and mailcow (stop-supervisor.sh):
# READY once, then on any event SIGQUIT to the supervisor named by the pidfile. Only the
# pidfile's path is a variable here (theirs is /var/run/supervisord.pid).

printf "READY\n";

while read line; do
  echo "Processing Event: $line" >&2;
  kill -3 $(cat "${PIDFILE:-/var/run/supervisord.pid}")
done < /dev/stdin
